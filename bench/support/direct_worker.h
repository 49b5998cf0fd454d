// DirectWorker: a snakepit Python worker started by hand, without the
// library, for the baselines: `python -m snakepit_worker` on a Unix socket,
// with the readiness pipe and lifeline of docs/worker-protocol.md.
//
// Its environment is what the library gives a worker of the same profile
// (docs/configuration.md, "Environment"): a clean base, BLAS/OpenMP threads
// pinned (1 in process mode, the slot count in thread mode) and, in process
// mode, GRPC_POLL_STRATEGY=poll. So the Python side of a baseline call is the
// same as that of a library call.
#ifndef SNAKEPIT_BENCH_SUPPORT_DIRECT_WORKER_H_
#define SNAKEPIT_BENCH_SUPPORT_DIRECT_WORKER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "support/subprocess.h"

namespace snakepit::bench {

struct DirectWorkerOptions {
  std::string python = "/usr/bin/python3";
  std::string python_path = {};  // holds the snakepit_worker package (build tree)
  std::string socket = {};       // absolute path of the Unix socket to listen on
  bool thread_mode = false;
  int slots = 1;                   // execution slots in thread mode
  std::string transport = "auto";  // --transport: "auto", "native" or "grpcio"
  absl::Duration startup_timeout = absl::Seconds(30);
};

class DirectWorker {
 public:
  // Spawns the worker and waits for its readiness record. The error holds
  // the worker's own ("ok": false) record when it failed to start.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<DirectWorker>> Start(const DirectWorkerOptions& options);
  // Closes the lifeline (the worker exits at once) and reaps it.
  ~DirectWorker();
  DirectWorker(const DirectWorker&) = delete;
  DirectWorker& operator=(const DirectWorker&) = delete;

  pid_t pid() const { return process_->pid(); }
  std::string target() const { return "unix:" + socket_; }
  // From spawn to the readiness record.
  absl::Duration startup_time() const { return startup_time_; }
  const nlohmann::json& ready_record() const { return ready_; }

 private:
  DirectWorker() = default;
  std::unique_ptr<Subprocess> process_;
  int lifeline_ = -1;  // write end; the worker exits when it closes
  std::string socket_;
  absl::Duration startup_time_;
  nlohmann::json ready_;
};

// The environment a worker of that profile gets from the library.
std::vector<std::string> WorkerEnvironment(const std::string& python_path, bool thread_mode, int slots);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_DIRECT_WORKER_H_
