// What the no-op micro-benchmarks call, started once by main() and shared
// by every benchmark (so that their runs can be interleaved):
//   - a PoolManager with pool "process" (1 worker) and pool "thread"
//     (1 worker x 4 threads): the library;
//   - a Python worker started by hand (process mode), called through a bare
//     stub: scenario 1's baseline;
//   - snakepit_bench_echo, a C++ gRPC echo server and a raw socket echo, in
//     their own process: scenario 2's floors.
#ifndef SNAKEPIT_BENCH_MICRO_TARGETS_H_
#define SNAKEPIT_BENCH_MICRO_TARGETS_H_

#include <sys/types.h>

#include <memory>

#include "absl/status/status.h"
#include "snakepit/snakepit.h"
#include "support/bare_stub.h"
#include "support/direct_worker.h"
#include "support/echo_process.h"
#include "support/flags.h"
#include "support/raw_echo_client.h"
#include "support/scratch_dir.h"

namespace snakepit::bench {

struct Targets {
  BenchFlags flags;
  ScratchDir scratch;
  std::unique_ptr<PoolManager> pools;
  pid_t process_pool_pid = 0;  // the worker of pool "process"
  pid_t thread_pool_pid = 0;   // the worker of pool "thread"
  std::unique_ptr<DirectWorker> python;
  std::unique_ptr<BareStub> python_stub;
  std::unique_ptr<EchoProcess> echo;
  std::unique_ptr<BareStub> echo_stub;
  std::unique_ptr<RawEchoClient> raw;
};

// Starts everything above; the first failure is returned.
[[nodiscard]] absl::Status StartTargets(Targets& targets);

// Each registers its benchmarks; `targets` must outlive the run.
void RegisterLibraryBenchmarks(Targets* targets);
void RegisterBaselineBenchmarks(Targets* targets);
// The shared-memory ring's round trip to a C++ child (shm_baseline.cc).
void RegisterShmBenchmarks();

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_MICRO_TARGETS_H_
