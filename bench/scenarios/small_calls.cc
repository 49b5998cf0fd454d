// Scenario 3: small calls. The no-op from 1 to 16 concurrent callers on
// process pools of 1, 2 and 4 workers and thread pools of 1 worker x 4 and
// x 8 threads. Baseline in the same run: bare stubs (one channel, as the
// library has per worker) to a thread-mode Python worker with 8 slots,
// started by hand, at up to 8 callers (more would get BUSY answers).
// Every pool runs for the whole scenario; the points are measured in rounds.
#include <cstdio>

#include "scenarios/pools.h"
#include "support/bare_stub.h"
#include "support/direct_worker.h"
#include "support/rounds.h"

namespace snakepit::bench {
namespace {

constexpr int kCallers[] = {1, 2, 4, 8, 16};
constexpr int kBareSlots = 8;

}  // namespace

nlohmann::json RunSmallCalls(BenchEnv& env) {
  nlohmann::json out = {{"command", "echo {}"}, {"callers", kCallers}, {"rounds", env.Rounds()}};
  const absl::Duration window = env.Time(0.4);

  struct Running {
    nlohmann::json json;
    std::unique_ptr<PoolManager> pools;
    std::unique_ptr<PoolCaller> caller;
  };
  std::vector<Running> running;
  std::vector<std::function<LoadResult()>> points;
  std::vector<std::pair<std::size_t, int>> owners;  // point -> (pool index or -1, callers)
  for (const PoolSpec& spec : {ProcessPool(1), ProcessPool(2), ProcessPool(4), ThreadPool(1, 4), ThreadPool(1, 8)}) {
    absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
    if (!pools.ok()) {
      out["pools"].push_back(WithError(spec.ToJson(), pools.status()));
      continue;
    }
    auto caller = std::make_unique<PoolCaller>(**pools, "echo", nlohmann::json::object());
    const std::vector<pid_t> pids = WorkerPids(**pools);
    for (int callers : kCallers) {
      points.push_back([&c = *caller, pids, callers, window] {
        return RunLoad({.callers = callers, .warmup = absl::Milliseconds(100), .duration = window, .worker_pids = pids},
                       std::ref(c));
      });
      owners.emplace_back(running.size(), callers);
    }
    running.push_back({spec.ToJson(), std::move(*pools), std::move(caller)});
  }

  nlohmann::json baseline = {{"label", "bare stub -> thread worker (8 slots)"}, {"slots", kBareSlots}};
  absl::StatusOr<std::unique_ptr<DirectWorker>> worker =
      DirectWorker::Start({.python = env.flags.python,
                           .python_path = env.flags.python_path,
                           .socket = env.scratch.File("small-calls.sock"),
                           .thread_mode = true,
                           .slots = kBareSlots});
  std::unique_ptr<BareStub> stub;
  const std::size_t baseline_index = running.size();
  if (!worker.ok()) {
    baseline = WithError(baseline, worker.status());
  } else {
    stub = std::make_unique<BareStub>((*worker)->target());
    const pid_t pid = (*worker)->pid();
    for (int callers : kCallers) {
      if (callers > kBareSlots) break;
      points.push_back([&s = *stub, pid, callers, window] {
        return RunLoad(
            {.callers = callers, .warmup = absl::Milliseconds(100), .duration = window, .worker_pids = {pid}},
            [&s](int) { return s.Call("echo"); });
      });
      owners.emplace_back(baseline_index, callers);
    }
  }

  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto [owner, callers] = owners[i];
    nlohmann::json& target = owner == baseline_index ? baseline : running[owner].json;
    const LoadResult& r = results[i].median;
    std::printf("  %-14s %2d callers: %7.0f calls/s  p50 %6.0f us  p99 %6.0f us\n",
                target["label"].get<std::string>().c_str(), callers, r.calls_per_s, r.latency.p50_us, r.latency.p99_us);
    target["points"].push_back(results[i].ToJson());
  }
  for (Running& r : running) out["pools"].push_back(r.json);
  out["baseline"] = baseline;
  return out;
}

}  // namespace snakepit::bench
