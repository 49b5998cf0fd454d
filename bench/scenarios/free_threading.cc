// Scenario 11: free-threading. Pure-Python CPU-bound work (the showcase's
// cpu_loop, sized to about 3 ms) on the free-threaded interpreter
// (--ft-python, native transport: grpcio does not exist there), with twice
// as many callers as slots so that no slot waits for its next call:
//   thread 1x1   one process, one handler thread: the single-slot rate
//   thread 1x2   one process, two handler threads running Python in parallel
//   process 2    two processes of one slot each
// measured in interleaved rounds, then the total PSS of each pool's worker
// processes with every slot used. Each worker reports at start whether the
// GIL is on; a module that turned it back on makes the figures meaningless,
// and the result says so ("gil_enabled_in_workers").
#include <cstdio>
#include <thread>

#include "scenarios/pools.h"
#include "support/load.h"
#include "support/rounds.h"

namespace snakepit::bench {
namespace {

constexpr char kSkipped[] =
    "skipped: no free-threaded interpreter (SNAKEPIT_FREE_THREADED=1 ./scripts/bench.sh builds one)";

PoolSpec FreeThreaded(PoolSpec spec, const std::string& python) {
  spec.python = python;
  spec.transport = WorkerTransport::kNative;
  return spec;
}

// The GIL state each worker reported when it became ready.
nlohmann::json WorkerGil(const PoolManager& pools, bool* any_enabled) {
  nlohmann::json out = nlohmann::json::array();
  absl::StatusOr<PoolStats> stats = pools.stats(kPool);
  if (!stats.ok()) return out;
  for (const WorkerStats& w : stats->per_worker) {
    out.push_back({{"pid", w.pid}, {"free_threaded", w.free_threaded}, {"gil_enabled", w.gil_enabled}});
    if (w.gil_enabled || !w.free_threaded) *any_enabled = true;
  }
  return out;
}

}  // namespace

nlohmann::json RunFreeThreading(BenchEnv& env) {
  const std::string& python = env.flags.ft_python;
  if (python.empty()) {
    std::printf("  %s\n", kSkipped);
    return {{"skipped", kSkipped}};
  }
  nlohmann::json out = {{"interpreter", InterpreterJson(python)},
                        {"cores", std::thread::hardware_concurrency()},
                        {"rounds", env.Rounds()},
                        {"command", "cpu_loop"}};
  const PoolSpec specs[] = {FreeThreaded(ThreadPool(1, 1), python), FreeThreaded(ThreadPool(1, 2), python),
                            FreeThreaded(ProcessPool(2), python)};
  std::vector<std::unique_ptr<PoolManager>> running;
  for (const PoolSpec& spec : specs) {
    absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
    if (!pools.ok()) return WithError(out, pools.status());
    running.push_back(std::move(*pools));
  }
  absl::StatusOr<int> n = CalibrateCpuLoop(*running.front(), absl::Milliseconds(3));
  if (!n.ok()) return WithError(out, n.status());
  out["cpu_loop_n"] = *n;
  std::printf("  cpu_loop n=%d takes about 3 ms on %s\n", *n, python.c_str());

  std::vector<std::unique_ptr<PoolCaller>> callers;
  std::vector<std::function<LoadResult()>> points;
  for (std::size_t i = 0; i < running.size(); ++i) {
    const PoolSpec& spec = specs[i];
    const std::vector<pid_t> pids = WorkerPids(*running[i]);
    callers.push_back(std::make_unique<PoolCaller>(*running[i], "cpu_loop", nlohmann::json{{"n", *n}}));
    const int load = 2 * spec.workers * spec.threads;
    points.push_back([&c = *callers.back(), pids, load, &env] {
      return RunLoad(
          {.callers = load, .warmup = absl::Milliseconds(200), .duration = env.Time(2.0), .worker_pids = pids},
          std::ref(c));
    });
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());

  bool gil_enabled = false;
  for (std::size_t i = 0; i < running.size(); ++i) {
    nlohmann::json j = specs[i].ToJson();
    j["point"] = results[i].ToJson();
    j["point"].update(callers[i]->PythonTimes());
    j["memory"] = MeasureMemory(*running[i]);
    j["workers_gil"] = WorkerGil(*running[i], &gil_enabled);
    const LoadResult& r = results[i].median;
    std::printf("  %-12s %d callers: %6.0f calls/s  workers use %.2f cores  PSS %5.1f MiB\n", specs[i].label.c_str(),
                r.callers, r.calls_per_s, r.worker_cores, j["memory"]["pss_bytes"].get<double>() / (1 << 20));
    out["pools"].push_back(j);
  }
  out["gil_enabled_in_workers"] = gil_enabled;
  if (gil_enabled) std::printf("  WARNING: a worker runs with the GIL on; these figures do not show free threading\n");
  return out;
}

}  // namespace snakepit::bench
