// Pools for the scenarios: one pool named "bench" per PoolManager, built
// from a short spec, and a caller that runs one command on it for RunLoad.
#ifndef SNAKEPIT_BENCH_SCENARIOS_POOLS_H_
#define SNAKEPIT_BENCH_SCENARIOS_POOLS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "scenarios/scenarios.h"
#include "snakepit/snakepit.h"

namespace snakepit::bench {

inline constexpr char kPool[] = "bench";

struct PoolSpec {
  std::string label;  // as the tables and plots name it, e.g. "process 2" or "thread 1x8"
  Profile profile = Profile::kProcess;
  int workers = 1;
  int threads = 1;  // threads_per_worker (thread profile)
  std::map<std::string, std::string> env = {};
  int startup_batch_size = 8;  // the library's default
  std::string python = {};     // the workers' interpreter; empty: --python
  WorkerTransport transport = WorkerTransport::kAuto;
  StartMethod start_method = StartMethod::kSpawn;
  std::string adapter = {};                   // "module:Class"; empty: the default (showcase) adapter
  std::vector<std::string> python_path = {};  // added to the workers' sys.path

  nlohmann::json ToJson() const;
};

PoolSpec ProcessPool(int workers);
PoolSpec ThreadPool(int workers, int threads);

// Starts the pool and returns once every worker is ready.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PoolManager>> StartPool(const BenchEnv& env, const PoolSpec& spec);

// The pids of the pool's live workers.
std::vector<pid_t> WorkerPids(const PoolManager& pools);

// Iterations of the showcase's cpu_loop that take about `target` on the
// pool's interpreter: the median of a few runs of a known size, scaled.
[[nodiscard]] absl::StatusOr<int> CalibrateCpuLoop(PoolManager& pools, absl::Duration target);

// The interpreter as the environment probe sees it: {"executable",
// "version", "free_threaded_build", "gil_enabled" (after the probe's
// imports), "runs_threads_in_parallel"}, or {"error"}.
nlohmann::json InterpreterJson(const std::string& python);

// Runs `command` on every slot at once, so that each worker (and each
// handler thread of a thread worker) runs one call.
[[nodiscard]] absl::Status FillSlots(PoolManager& pools, int capacity, const std::string& command,
                                     const nlohmann::json& args);

// {"pss_bytes", "rss_bytes", "per_worker": [{"pid", "pss_bytes",
// "rss_bytes"}]}: the pool's Python processes, as the Inspector measures
// them from /proc, after a pause for freed memory to be returned.
nlohmann::json MeasureMemory(PoolManager& pools);

// `j` with an "error" field saying what went wrong: a scenario that cannot
// run a configuration records why and goes on with the next.
nlohmann::json WithError(nlohmann::json j, const absl::Status& error);

// Runs `command` with `args` on the pool, from any number of threads, and
// adds up the Python handler times the replies carry and, if
// `seconds_field` is given, that field of each result (a time in seconds
// the command measured itself, such as matmul's "elapsed_s").
class PoolCaller {
 public:
  PoolCaller(PoolManager& pools, std::string command, nlohmann::json args, std::string seconds_field = "")
      : pools_(pools), command_(std::move(command)), args_(std::move(args)), seconds_field_(std::move(seconds_field)) {}

  absl::Status operator()(int caller);
  // {"python_us", "python_cpu_us"} and, with a seconds field,
  // "<field>_us": means over the successful calls so far.
  nlohmann::json PythonTimes() const;

 private:
  PoolManager& pools_;
  const std::string command_;
  const nlohmann::json args_;
  const std::string seconds_field_;
  std::atomic<std::int64_t> calls_{0}, python_ns_{0}, python_cpu_ns_{0}, field_ns_{0};
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SCENARIOS_POOLS_H_
