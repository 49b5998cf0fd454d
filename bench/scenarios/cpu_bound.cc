// Scenario 4: CPU-bound pure Python. The showcase's cpu_loop, sized to
// about 1 ms here, on process pools (which should scale with the cores)
// and thread pools (which, on a GIL interpreter, should not). The
// single-worker rate measured here is the baseline of the target
// "process pool >= 0.9 x cores x single-worker rate".
#include <cstdio>
#include <thread>

#include "scenarios/pools.h"
#include "support/load.h"
#include "support/rounds.h"

namespace snakepit::bench {

nlohmann::json RunCpuBound(BenchEnv& env) {
  nlohmann::json out = {{"interpreter", InterpreterJson(env.flags.python)},
                        {"cores", std::thread::hardware_concurrency()},
                        {"rounds", env.Rounds()}};
  std::printf("  interpreter %s: free-threaded build: %s, GIL enabled: %s\n",
              out["interpreter"].value("version", "?").c_str(),
              out["interpreter"].value("free_threaded_build", false) ? "yes" : "no",
              out["interpreter"].value("gil_enabled", true) ? "yes" : "no");
  // {pool, callers}: a single worker with 1 and 2 callers (2 keeps it busy
  // while a reply travels), then pools of as many workers as cores and more.
  const std::pair<PoolSpec, std::vector<int>> runs[] = {{ProcessPool(1), {1, 2}}, {ProcessPool(2), {2, 4}},
                                                        {ProcessPool(4), {4, 8}}, {ThreadPool(1, 2), {2}},
                                                        {ThreadPool(1, 4), {4}},  {ThreadPool(2, 2), {4}}};
  std::vector<std::unique_ptr<PoolManager>> running;
  for (const auto& [spec, callers_list] : runs) {
    absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
    if (!pools.ok()) return WithError(out, pools.status());
    running.push_back(std::move(*pools));
  }
  absl::StatusOr<int> n = CalibrateCpuLoop(*running.front(), absl::Milliseconds(1));
  if (!n.ok()) return WithError(out, n.status());
  env.cpu_loop_n = *n;
  out["cpu_loop_n"] = *n;
  std::printf("  cpu_loop n=%d takes about 1 ms\n", *n);

  std::vector<std::unique_ptr<PoolCaller>> callers_of_point;
  std::vector<std::function<LoadResult()>> points;
  for (std::size_t i = 0; i < running.size(); ++i) {
    const std::vector<pid_t> pids = WorkerPids(*running[i]);
    for (int callers : runs[i].second) {
      callers_of_point.push_back(std::make_unique<PoolCaller>(*running[i], "cpu_loop", nlohmann::json{{"n", *n}}));
      points.push_back([&c = *callers_of_point.back(), pids, callers, &env] {
        return RunLoad(
            {.callers = callers, .warmup = absl::Milliseconds(100), .duration = env.Time(0.6), .worker_pids = pids},
            std::ref(c));
      });
    }
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());
  std::size_t point = 0;
  for (const auto& [spec, callers_list] : runs) {
    nlohmann::json config = spec.ToJson();
    for (int callers : callers_list) {
      const LoadResult& r = results[point].median;
      nlohmann::json j = results[point].ToJson();
      j.update(callers_of_point[point]->PythonTimes());
      std::printf("  %-12s %d callers: %6.0f calls/s  workers use %.2f cores  python %.0f us (cpu %.0f us)\n",
                  spec.label.c_str(), callers, r.calls_per_s, r.worker_cores, j["python_us"].get<double>(),
                  j["python_cpu_us"].get<double>());
      config["points"].push_back(j);
      ++point;
    }
    out["pools"].push_back(config);
  }
  return out;
}

}  // namespace snakepit::bench
