// Scenario 4: CPU-bound pure Python. The showcase's cpu_loop, sized to
// about 1 ms here, on process pools (which should scale with the cores)
// and thread pools (which, on a GIL interpreter, should not). The
// single-worker rate measured here is the baseline of the target
// "process pool of 2 >= 1.9 x one worker" (issue 16).
//
// The two pools compared may not get the same machine: on a shared VM the
// same loop can cost more CPU in one window than in another. So the
// comparison is normalised by the Python CPU per call (the workers' CPU
// clocks over the window, divided by the calls completed in it): the rate
// of each pool counts calls of the same amount of work. When that CPU per
// call drifted by more than 5% between the two points compared, the
// machine changed too much under them, and the scenario gives no verdict
// and says why.
#include <cmath>
#include <cstdio>
#include <thread>

#include "absl/strings/str_format.h"
#include "scenarios/verdict.h"

#include "scenarios/pools.h"
#include "support/load.h"
#include "support/rounds.h"

namespace snakepit::bench {
namespace {

constexpr double kMaxCpuDrift = 0.05;
constexpr double kTargetScaling = 1.9;  // process 2 / process 1, issue 16

// The point of a pool with the most calls/s (the median round of each).
const LoadResult* Best(const std::vector<const LoadResult*>& points) {
  const LoadResult* best = nullptr;
  for (const LoadResult* p : points) {
    if (best == nullptr || p->calls_per_s > best->calls_per_s) best = p;
  }
  return best;
}

nlohmann::json PointSummary(const LoadResult& r) {
  return {{"callers", r.callers}, {"calls_per_s", r.calls_per_s}, {"python_cpu_us_per_call", r.worker_cpu_us_per_call}};
}

// Process 2 against process 1, normalised by the Python CPU per call, or
// no verdict when that drifted by more than kMaxCpuDrift.
nlohmann::json Scaling(const BenchEnv& env, const LoadResult& single, const LoadResult& pair) {
  nlohmann::json j = {{"single", PointSummary(single)}, {"pair", PointSummary(pair)}, {"max_cpu_drift", kMaxCpuDrift}};
  const std::string target = absl::StrFormat("process pool of 2 >= %.1f x one worker (CPU-normalised)", kTargetScaling);
  j["target"] = target;
  if (single.calls_per_s <= 0 || single.worker_cpu_us_per_call <= 0 || pair.worker_cpu_us_per_call <= 0) {
    j["no_verdict"] = "a point completed no calls or its workers' CPU clocks could not be read";
    PrintNoVerdict(env, target, j["no_verdict"].get<std::string>());
    return j;
  }
  const double raw = pair.calls_per_s / single.calls_per_s;
  const double drift = pair.worker_cpu_us_per_call / single.worker_cpu_us_per_call - 1;
  const double normalised = raw * (1 + drift);
  j["raw_ratio"] = raw;
  j["cpu_drift"] = drift;
  j["normalised_ratio"] = normalised;
  std::printf(
      "  process 2 / process 1: %.2fx in calls/s; worker CPU per call %.0f vs %.0f us (%+.1f%%); "
      "normalised %.2fx\n",
      raw, pair.worker_cpu_us_per_call, single.worker_cpu_us_per_call, 100 * drift, normalised);
  if (std::abs(drift) > kMaxCpuDrift) {
    j["no_verdict"] = absl::StrFormat(
        "the workers' CPU per call (their whole process CPU clocks, not only the handler's) drifted by %+.1f%% "
        "between the two points (more than %.0f%%): the same work did not cost the same",
        100 * drift, 100 * kMaxCpuDrift);
    PrintNoVerdict(env, target, j["no_verdict"].get<std::string>());
    return j;
  }
  j["met"] = normalised >= kTargetScaling;
  PrintVerdict(env, target, normalised >= kTargetScaling, absl::StrFormat("%.2fx", normalised));
  return j;
}

}  // namespace

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
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds(), RoundOrder::kAlternating);
  std::size_t point = 0;
  std::vector<const LoadResult*> single, pair;  // the points of process 1 and process 2
  for (const auto& [spec, callers_list] : runs) {
    nlohmann::json config = spec.ToJson();
    for (int callers : callers_list) {
      const LoadResult& r = results[point].median;
      nlohmann::json j = results[point].ToJson();
      j.update(callers_of_point[point]->PythonTimes());
      std::printf(
          "  %-12s %d callers: %6.0f calls/s  workers use %.2f cores  python %.0f us (cpu %.0f us)  "
          "worker CPU %.0f us/call\n",
          spec.label.c_str(), callers, r.calls_per_s, r.worker_cores, j["python_us"].get<double>(),
          j["python_cpu_us"].get<double>(), r.worker_cpu_us_per_call);
      if (spec.profile == Profile::kProcess && spec.workers == 1) single.push_back(&r);
      if (spec.profile == Profile::kProcess && spec.workers == 2) pair.push_back(&r);
      config["points"].push_back(j);
      ++point;
    }
    out["pools"].push_back(config);
  }
  if (Best(single) != nullptr && Best(pair) != nullptr) out["scaling"] = Scaling(env, *Best(single), *Best(pair));
  return out;
}

}  // namespace snakepit::bench
