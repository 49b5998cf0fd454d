// Scenario 5: GIL-releasing native work. The showcase's matmul (numpy: two
// seeded random n x n matrices, then their product in OpenBLAS; both
// release the GIL; "elapsed_s" of the result is the product alone) on a
// process pool with BLAS pinned to 1 thread per worker, and
// on thread pools, whose workers get threads_per_worker BLAS threads unless
// the pool's env overrides it. Baseline: one process worker, one caller.
#include <cstdio>

#include "scenarios/pools.h"
#include "support/load.h"
#include "support/rounds.h"

namespace snakepit::bench {

nlohmann::json RunNative(BenchEnv& env) {
  constexpr int kN = 512;  // 268 MFLOP a call: a few ms on one core
  nlohmann::json out = {{"command", "matmul"}, {"n", kN}};
  PoolSpec thread_pinned = ThreadPool(1, 2);
  thread_pinned.label += " BLAS=1";
  thread_pinned.env = {{"OPENBLAS_NUM_THREADS", "1"}};
  const std::pair<PoolSpec, std::vector<int>> runs[] = {{ProcessPool(1), {1}},
                                                        {ProcessPool(2), {2, 4}},
                                                        {ThreadPool(1, 2), {2}},
                                                        {thread_pinned, {2}},
                                                        {ThreadPool(1, 4), {4}}};
  out["rounds"] = env.Rounds();
  std::vector<std::unique_ptr<PoolManager>> running;
  std::vector<std::unique_ptr<PoolCaller>> callers_of_point;
  std::vector<std::function<LoadResult()>> points;
  for (const auto& [spec, callers_list] : runs) {
    absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
    if (!pools.ok()) return WithError(out, pools.status());
    // numpy is imported by the first call in each worker: not measured.
    for (int i = 0; i < spec.workers * spec.threads; ++i) (void)(*pools)->execute(kPool, "matmul", {{"n", 64}});
    const std::vector<pid_t> pids = WorkerPids(**pools);
    for (int callers : callers_list) {
      callers_of_point.push_back(
          std::make_unique<PoolCaller>(**pools, "matmul", nlohmann::json{{"n", kN}}, "elapsed_s"));
      points.push_back([&c = *callers_of_point.back(), pids, callers, &env] {
        return RunLoad(
            {.callers = callers, .warmup = absl::Milliseconds(150), .duration = env.Time(0.8), .worker_pids = pids},
            std::ref(c));
      });
    }
    running.push_back(std::move(*pools));
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());
  std::size_t point = 0;
  for (const auto& [spec, callers_list] : runs) {
    nlohmann::json config = spec.ToJson();
    for (int callers : callers_list) {
      const LoadResult& r = results[point].median;
      nlohmann::json j = results[point].ToJson();
      j.update(callers_of_point[point]->PythonTimes());
      std::printf("  %-20s %d callers: %6.0f calls/s  p50 %6.0f us  workers use %.2f cores\n", spec.label.c_str(),
                  callers, r.calls_per_s, r.latency.p50_us, r.worker_cores);
      config["points"].push_back(j);
      ++point;
    }
    out["pools"].push_back(config);
  }
  return out;
}

}  // namespace snakepit::bench
