// Scenario 15: autoscaling under a step load. A pool autoscaled between 1
// and 8 process workers gets no calls (idle), then 10 callers running
// 20 ms calls without pause (10x what its one worker serves), then no
// calls again. Per step: the scale-ups and scale-downs (pool_scaling
// events), the calls served and failed; and the time from the burst to
// the scale-up decision and to the pool's new size being ready. The issue's
// target: at most one scale-up and one scale-down per step, no failed call.
// --quick shortens the steps and prints no verdict.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "scenarios/pools.h"
#include "scenarios/verdict.h"

namespace snakepit::bench {
namespace {

struct Step {
  std::string name;
  absl::Duration length;
  int callers = 0;
};

// pool_scaling events with the time they were seen.
class ScalingLog {
 public:
  void Add(const Event& e) {
    if (e.type != EventType::kPoolScaling) return;
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back({absl::Now(), e});
  }
  // Ups and downs seen in [from, to).
  std::pair<int, int> Count(absl::Time from, absl::Time to, absl::Time* first_up) {
    std::lock_guard<std::mutex> lock(mu_);
    int ups = 0, downs = 0;
    for (const auto& [when, e] : seen_) {
      if (when < from || when >= to) continue;
      if (e.target_size > e.previous_size) {
        if (ups++ == 0 && first_up != nullptr) *first_up = when;
      } else {
        ++downs;
      }
    }
    return {ups, downs};
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<absl::Time, Event>> seen_;
};

}  // namespace

nlohmann::json RunAutoscale(BenchEnv& env) {
  Config config;
  PoolConfig pool;
  pool.name = kPool;
  pool.python = env.flags.python;
  pool.kill_grace = std::chrono::milliseconds(2'000);
  pool.autoscale = AutoscaleConfig{.min_workers = 1,
                                   .max_workers = 8,
                                   .target_utilization = 0.8,
                                   .scale_up_delay = std::chrono::milliseconds(500),
                                   .scale_down_delay = std::chrono::seconds(5),
                                   .idle_timeout = std::chrono::seconds(2),
                                   .sample_interval = std::chrono::milliseconds(50)};
  config.pools.push_back(pool);
  auto log = std::make_shared<ScalingLog>();
  absl::StatusOr<std::unique_ptr<PoolManager>> pools =
      PoolManager::Start(config, [log](const Event& e) { log->Add(e); });
  nlohmann::json out = {{"min_workers", 1}, {"max_workers", 8}, {"burst_callers", 10}, {"call_ms", 20}};
  if (!pools.ok()) return WithError(out, pools.status());
  PoolManager& pm = **pools;
  const std::vector<Step> steps = {{"idle", absl::Seconds(2), 0},
                                   {"burst", std::max(env.Time(12), absl::Seconds(3)), 10},
                                   {"idle after", std::max(env.Time(12), absl::Seconds(5)), 0}};
  bool all_fine = true;
  for (const Step& step : steps) {
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> callers;
    const absl::Time start = absl::Now();
    for (int i = 0; i < step.callers; ++i) {
      callers.emplace_back([&] {
        while (!stop.load()) {
          absl::StatusOr<nlohmann::json> r = pm.execute(kPool, "sleep", {{"ms", 20}});
          (r.ok() ? ok : failed).fetch_add(1);
        }
      });
    }
    // The time the pool's new size is ready, if it grows in this step.
    absl::Time grown = absl::InfiniteFuture();
    while (absl::Now() < start + step.length) {
      absl::StatusOr<PoolStats> s = pm.stats(kPool);
      if (s.ok() && grown == absl::InfiniteFuture() && s->target_workers > 1 &&
          s->current_workers == s->target_workers && s->workers == s->target_workers) {
        grown = absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    stop.store(true);
    for (std::thread& t : callers) t.join();
    const absl::Time end = absl::Now();
    absl::Time first_up = absl::InfiniteFuture();
    const auto [ups, downs] = log->Count(start, end, &first_up);
    const PoolStats s = *pm.stats(kPool);
    nlohmann::json j = {{"step", step.name},
                        {"seconds", absl::ToDoubleSeconds(end - start)},
                        {"callers", step.callers},
                        {"scale_ups", ups},
                        {"scale_downs", downs},
                        {"calls_ok", ok.load()},
                        {"calls_failed", failed.load()},
                        {"workers_at_end", s.workers},
                        {"target_at_end", s.target_workers}};
    if (first_up != absl::InfiniteFuture()) j["scale_up_decision_ms"] = absl::ToDoubleMilliseconds(first_up - start);
    if (step.callers > 0 && grown != absl::InfiniteFuture()) {
      j["new_size_ready_ms"] = absl::ToDoubleMilliseconds(grown - start);
    }
    std::printf(
        "  %-10s %5.1f s  %2d callers  scale-ups %d  scale-downs %d  calls %6d ok %d failed  workers %d of "
        "target %d\n",
        step.name.c_str(), absl::ToDoubleSeconds(end - start), step.callers, ups, downs, ok.load(), failed.load(),
        s.workers, s.target_workers);
    if (j.contains("new_size_ready_ms")) {
      std::printf("             scale-up decided after %.0f ms, new size ready after %.0f ms\n",
                  j.value("scale_up_decision_ms", 0.0), j["new_size_ready_ms"].get<double>());
    }
    all_fine = all_fine && ups <= 1 && downs <= 1 && failed.load() == 0;
    out["steps"].push_back(j);
  }
  out["ok"] = all_fine;
  PrintVerdict(env, "at most one scale-up and one scale-down per step, no failed call", all_fine,
               all_fine ? "every step" : "see the steps above");
  pm.shutdown();
  return out;
}

}  // namespace snakepit::bench
