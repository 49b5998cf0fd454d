// Scenario 7: start-up. Time from PoolManager::Start() to its return (every
// worker ready) for pools of 1, 8 and 16 workers of each profile, the
// library's batched start (startup_batch_size 8, and 16 for one batch), and
// the 2 x 8 and 4 x 4 thread pools that match a 16-worker process pool's
// capacity. Baseline: one Python worker started by hand, from spawn to
// its readiness record.
#include <algorithm>
#include <cstdio>

#include "absl/time/clock.h"
#include "scenarios/pools.h"
#include "support/cpu_clock.h"
#include "support/direct_worker.h"

namespace snakepit::bench {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

nlohmann::json TimePool(BenchEnv& env, const PoolSpec& spec, int reps) {
  nlohmann::json out = spec.ToJson();
  std::vector<double> start_ms, stop_ms;
  for (int i = 0; i < reps; ++i) {
    const absl::Time t0 = absl::Now();
    absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
    const absl::Time t1 = absl::Now();
    if (!pools.ok()) return WithError(out, pools.status());
    (*pools)->shutdown();
    start_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
    stop_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t1));
  }
  out["start_ms"] = start_ms;
  out["stop_ms"] = stop_ms;
  out["start_ms_median"] = Median(start_ms);
  out["stop_ms_median"] = Median(stop_ms);
  std::printf("  %-24s ready in %6.0f ms (median of %d), shutdown %5.0f ms\n", spec.label.c_str(), Median(start_ms),
              reps, Median(stop_ms));
  return out;
}

nlohmann::json TimeDirect(BenchEnv& env, int reps) {
  nlohmann::json out = {{"label", "1 worker by hand"}};
  // The CPU time a worker burns to become ready (interpreter, imports,
  // server): N workers on C cores cannot be ready before N x this / C.
  std::vector<double> start_ms, cpu_ms;
  for (int i = 0; i < reps; ++i) {
    absl::StatusOr<std::unique_ptr<DirectWorker>> worker = DirectWorker::Start(
        {.python = env.flags.python, .python_path = env.flags.python_path, .socket = env.scratch.File("startup.sock")});
    if (!worker.ok()) return WithError(out, worker.status());
    start_ms.push_back(absl::ToDoubleMilliseconds((*worker)->startup_time()));
    cpu_ms.push_back(absl::ToDoubleMilliseconds(ProcessCpu((*worker)->pid())));
  }
  out["start_ms"] = start_ms;
  out["start_ms_median"] = Median(start_ms);
  out["cpu_ms"] = cpu_ms;
  out["cpu_ms_median"] = Median(cpu_ms);
  std::printf("  %-24s ready in %6.0f ms (median of %d), using %.0f ms of CPU\n", "1 worker by hand", Median(start_ms),
              reps, Median(cpu_ms));
  return out;
}

}  // namespace

nlohmann::json RunStartup(BenchEnv& env) {
  const int reps = env.Reps(3);
  nlohmann::json out = {{"reps", reps}, {"baseline", TimeDirect(env, reps)}};
  PoolSpec one_batch = ProcessPool(16);
  one_batch.startup_batch_size = 16;
  one_batch.label += " (batch 16)";
  for (const PoolSpec& spec : {ProcessPool(1), ProcessPool(8), ProcessPool(16), one_batch, ThreadPool(1, 4),
                               ThreadPool(8, 4), ThreadPool(16, 4), ThreadPool(2, 8), ThreadPool(4, 4)}) {
    out["pools"].push_back(TimePool(env, spec, reps));
  }
  return out;
}

}  // namespace snakepit::bench
