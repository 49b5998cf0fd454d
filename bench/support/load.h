// RunLoad: a closed-loop load. `callers` threads each issue one call after
// another; after a warm-up, the calls completed within a measured window
// give the throughput, the latencies and the CPU per call.
#ifndef SNAKEPIT_BENCH_SUPPORT_LOAD_H_
#define SNAKEPIT_BENCH_SUPPORT_LOAD_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "support/latency.h"

namespace snakepit::bench {

struct LoadOptions {
  int callers = 1;
  absl::Duration warmup = absl::Milliseconds(200);
  absl::Duration duration = absl::Seconds(1);
  // Processes whose CPU time over the window is reported (the workers).
  std::vector<pid_t> worker_pids = {};
};

struct LoadResult {
  int callers = 0;
  std::int64_t calls = 0;   // completed in the window
  std::int64_t errors = 0;  // of which failed
  std::string first_error;
  double seconds = 0;
  double calls_per_s = 0;
  LatencySummary latency;
  // CPU per completed call: this process (client and library threads) and
  // the worker processes; and the cores the workers kept busy on average.
  double client_cpu_us_per_call = 0;
  double worker_cpu_us_per_call = 0;
  double worker_cores = 0;

  nlohmann::json ToJson() const;
};

// `call(caller)` makes one call from caller thread `caller` (0-based) and
// returns its status. It must be safe to run concurrently.
LoadResult RunLoad(const LoadOptions& options, const std::function<absl::Status(int caller)>& call);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_LOAD_H_
