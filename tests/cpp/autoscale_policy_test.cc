// AutoscalePolicy sample by sample on a hand-moved time line, and the
// Autoscaler over a real Pool of fake workers and a fake clock. No Python:
// elastic_test.cc runs the same code with real workers.
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "fake_pool.h"
#include "gtest/gtest.h"
#include "lifecycle/autoscale_policy.h"
#include "lifecycle/autoscaler.h"

namespace snakepit::internal {
namespace {

using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;

AutoscaleConfig Config() {
  AutoscaleConfig c;
  c.min_workers = 1;
  c.max_workers = 8;
  c.target_utilization = 0.8;
  c.hysteresis = 0.2;
  c.scale_up_delay = std::chrono::seconds(1);
  c.scale_down_delay = std::chrono::seconds(5);
  c.idle_timeout = std::chrono::seconds(3);
  return c;
}

// A pool at its target (settled) with `load` calls in flight or queued.
LoadSample At(int size, int load, int capacity = 1) {
  LoadSample s;
  s.target = size;
  s.ready = size;
  s.in_flight = std::min(load, size * capacity);
  s.queued = load - s.in_flight;
  s.capacity_per_worker = capacity;
  return s;
}

// Feeds a step load to a policy that resizes the pool as decided, one
// sample every 250 ms, starting workers at once; returns the decisions.
class StepRun {
 public:
  explicit StepRun(const AutoscaleConfig& config) : policy_(config), size_(config.min_workers) {}
  // `load` for `duration`.
  void Hold(int load, absl::Duration duration) {
    for (absl::Duration t; t < duration; t += absl::Milliseconds(250)) {
      now_ += absl::Milliseconds(250);
      const AutoscaleDecision d = policy_.Observe(At(size_, load), now_);
      if (d.resize_to) {
        (*d.resize_to > size_ ? ups_ : downs_)++;
        decisions_.push_back(d);
        size_ = *d.resize_to;
      }
    }
  }
  // Scale-ups and scale-downs since the last call.
  std::pair<int, int> TakeCounts() { return {std::exchange(ups_, 0), std::exchange(downs_, 0)}; }
  int size() const { return size_; }
  const std::vector<AutoscaleDecision>& decisions() const { return decisions_; }

 private:
  AutoscalePolicy policy_;
  int size_;
  absl::Time now_ = absl::FromUnixSeconds(1000);
  int ups_ = 0, downs_ = 0;
  std::vector<AutoscaleDecision> decisions_;
};

TEST(AutoscalePolicyTest, SizesFollowTheTargetAndBounds) {
  AutoscalePolicy p(Config());
  EXPECT_EQ(p.UpSize(At(1, 0)), 1);                  // min_workers
  EXPECT_EQ(p.UpSize(At(1, 4)), 5);                  // 4 / 0.8
  EXPECT_EQ(p.UpSize(At(1, 5)), 7);                  // ceil(6.25)
  EXPECT_EQ(p.UpSize(At(1, 100)), 8);                // max_workers
  EXPECT_EQ(p.DownSize(At(8, 4)), 7);                // 4 / (0.8 x 0.8) = 6.25
  EXPECT_EQ(p.UpSize(At(2, 8, /*capacity=*/4)), 3);  // 8 / 3.2
  AutoscaleConfig q = Config();
  q.target = AutoscaleTarget::kQueueDepth;
  q.target_queue_depth = 2;
  AutoscalePolicy depth(q);
  EXPECT_EQ(depth.UpSize(At(2, 6)), 2);  // each worker: 1 running + 2 waiting
  EXPECT_EQ(depth.UpSize(At(2, 7)), 3);
}

TEST(AutoscalePolicyTest, ScalesUpOnlyAfterTheDelayHeldWithoutABreak) {
  AutoscalePolicy p(Config());
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(p.Observe(At(1, 4), t0).resize_to);
  EXPECT_EQ(p.Observe(At(1, 4), t0).desired, 5);
  EXPECT_FALSE(p.Observe(At(1, 4), t0 + absl::Milliseconds(900)).resize_to);
  EXPECT_FALSE(p.Observe(At(1, 0), t0 + absl::Milliseconds(950)).resize_to);  // a break: the window restarts
  EXPECT_FALSE(p.Observe(At(1, 4), t0 + absl::Milliseconds(1000)).resize_to);
  EXPECT_FALSE(p.Observe(At(1, 4), t0 + absl::Milliseconds(1900)).resize_to);
  const AutoscaleDecision d = p.Observe(At(1, 6), t0 + absl::Milliseconds(2000));
  ASSERT_TRUE(d.resize_to);
  EXPECT_EQ(*d.resize_to, 8);  // the window's largest size: ceil(6 / 0.8)
  EXPECT_EQ(d.reason, "load");
  EXPECT_NE(d.detail.find("1 running + 5 queued on 1 workers"), std::string::npos) << d.detail;
}

TEST(AutoscalePolicyTest, ABurstWhoseCallersArriveOverTheDelayIsMetInOneMove) {
  AutoscalePolicy p(Config());
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(p.Observe(At(1, 2 + 2 * i), t0 + absl::Milliseconds(250 * i)).resize_to);  // 2, 4, 6, 8 calls
  }
  const AutoscaleDecision d = p.Observe(At(1, 5), t0 + absl::Seconds(1));  // a dip at the decision
  ASSERT_TRUE(d.resize_to);
  EXPECT_EQ(*d.resize_to, 8);  // the window's largest: ceil(8 / 0.8) = 10, within max_workers
}

TEST(AutoscalePolicyTest, ScalesDownToTheLargestSizeOfTheWindow) {
  AutoscalePolicy p(Config());
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(p.Observe(At(8, 1), t0).resize_to);
  EXPECT_FALSE(p.Observe(At(8, 3), t0 + absl::Seconds(2)).resize_to);  // 3 / 0.64 -> 5
  EXPECT_FALSE(p.Observe(At(8, 1), t0 + absl::Seconds(4)).resize_to);
  const AutoscaleDecision d = p.Observe(At(8, 1), t0 + absl::Seconds(5));
  ASSERT_TRUE(d.resize_to);
  EXPECT_EQ(*d.resize_to, 5);
  EXPECT_EQ(d.reason, "load");
}

TEST(AutoscalePolicyTest, IdlePoolGoesToMinWorkersAfterIdleTimeout) {
  AutoscaleConfig c = Config();
  c.scale_down_delay = std::chrono::seconds(60);
  AutoscalePolicy p(c);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(p.Observe(At(6, 0), t0).resize_to);
  EXPECT_FALSE(p.Observe(At(6, 0), t0 + absl::Milliseconds(2999)).resize_to);
  const AutoscaleDecision d = p.Observe(At(6, 0), t0 + absl::Seconds(3));
  ASSERT_TRUE(d.resize_to);
  EXPECT_EQ(*d.resize_to, 1);
  EXPECT_EQ(d.reason, "idle");
  // Zero turns the idle rule off.
  c.idle_timeout = std::chrono::milliseconds(0);
  AutoscalePolicy off(c);
  for (int s = 0; s < 59; ++s) EXPECT_FALSE(off.Observe(At(6, 0), t0 + absl::Seconds(s)).resize_to);
}

TEST(AutoscalePolicyTest, NoDecisionWhileThePoolIsNotAtItsTarget) {
  AutoscalePolicy p(Config());
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  LoadSample starting = At(5, 20);
  starting.ready = 1;  // 4 workers still starting
  for (int ms = 0; ms <= 5000; ms += 250) {
    EXPECT_FALSE(p.Observe(starting, t0 + absl::Milliseconds(ms)).resize_to);
  }
  LoadSample leaving = At(2, 0);
  leaving.leaving = 3;
  for (int ms = 5000; ms <= 10000; ms += 250) {
    EXPECT_FALSE(p.Observe(leaving, t0 + absl::Milliseconds(ms)).resize_to);
  }
  // A recycle's successor on top of the target is settled.
  LoadSample surge = At(5, 0);
  surge.ready = 6;
  EXPECT_EQ(p.Observe(surge, t0 + absl::Milliseconds(10500)).desired, 1);
  // Settled: the windows start now, not at the first sample.
  EXPECT_FALSE(p.Observe(At(5, 20), t0 + absl::Seconds(11)).resize_to);
  EXPECT_TRUE(p.Observe(At(5, 20), t0 + absl::Seconds(12)).resize_to);
}

TEST(AutoscalePolicyTest, StepLoadMovesAtMostOnceUpAndOnceDownPerStep) {
  // Step loads of every height from 1 to 12 calls (10x a 1-worker pool and
  // more), with delays shorter and longer than the steps.
  for (int burst = 1; burst <= 12; ++burst) {
    for (int down_s : {2, 5, 20}) {
      AutoscaleConfig c = Config();
      c.scale_down_delay = std::chrono::seconds(down_s);
      StepRun run(c);
      run.Hold(0, absl::Seconds(10));
      EXPECT_EQ(run.TakeCounts(), std::make_pair(0, 0)) << "idle, burst " << burst;
      run.Hold(burst, absl::Seconds(30));
      const auto [ups, downs] = run.TakeCounts();
      EXPECT_LE(ups, 1) << "burst " << burst;
      EXPECT_EQ(downs, 0) << "burst " << burst;
      EXPECT_EQ(run.size(), std::clamp((burst * 10 + 7) / 8, 1, 8)) << "burst " << burst;
      run.Hold(0, absl::Seconds(30));
      EXPECT_EQ(run.TakeCounts(), std::make_pair(0, ups)) << "after burst " << burst;
      EXPECT_EQ(run.size(), 1);
    }
  }
}

TEST(AutoscalePolicyTest, LoadOscillatingAtAThresholdDoesNotFlap) {
  // Load alternating between 4 and 5 calls every sample and every few
  // seconds: 4 -> 5 workers, 5 -> 7. Once grown, the hysteresis band
  // keeps it there (down size of 4 calls at 7 workers: ceil(6.25) = 7).
  for (absl::Duration period : {absl::Milliseconds(250), absl::Seconds(3), absl::Seconds(40)}) {
    StepRun run(Config());
    for (int i = 0; i < 20; ++i) run.Hold(i % 2 == 0 ? 5 : 4, period);
    const auto [ups, downs] = run.TakeCounts();
    EXPECT_EQ(ups, 1) << absl::FormatDuration(period);
    EXPECT_EQ(downs, 0) << absl::FormatDuration(period);
    EXPECT_EQ(run.size(), 7);
  }
}

TEST(AutoscalePolicyTest, EveryLoadFromOneSizeIsStableOnceReached) {
  // For each load, once the policy has moved, holding the load moves it
  // no more: no size it picks asks for another move.
  for (int load = 0; load <= 10; ++load) {
    StepRun run(Config());
    run.Hold(load, absl::Seconds(20));
    (void)run.TakeCounts();
    run.Hold(load, absl::Seconds(120));
    EXPECT_EQ(run.TakeCounts(), std::make_pair(0, 0)) << "load " << load;
  }
}

TEST(AutoscalePolicyTest, ZeroDelaysDecideOnTheFirstSample) {
  AutoscaleConfig c = Config();
  c.scale_up_delay = std::chrono::milliseconds(0);
  c.scale_down_delay = std::chrono::milliseconds(0);
  AutoscalePolicy p(c);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_EQ(p.Observe(At(1, 4), t0).resize_to, 5);
  EXPECT_EQ(p.Observe(At(5, 1), t0).resize_to, 2);  // ceil(1 / 0.64)
}

// The Autoscaler over a real pool of fake workers: a burst of calls grows
// the pool once, and when the calls are answered, the idle rule shrinks it
// once, each with a pool_scaling event that says why.
TEST(AutoscalerTest, BurstGrowsThePoolAndIdleShrinksIt) {
  FakeClock clock;
  FakeFleet fleet;
  PoolConfig config;
  config.name = "auto";
  config.autoscale = Config();
  config.drain_timeout = std::chrono::milliseconds(0);
  std::mutex mu;
  std::vector<Event> events;
  Pool pool(
      config, fleet.Factory(),
      [&](Event e) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(e);
      },
      nullptr, &clock);
  ASSERT_TRUE(pool.Start().ok());
  EXPECT_EQ(pool.Stats().target_workers, 1);
  Autoscaler scaler(pool, clock, Autoscaler::Mode::kManual);
  std::mutex results_mu;
  std::vector<absl::Status> results;
  for (int i = 0; i < 5; ++i) {
    pool.Submit("work", "{}", {}, [&](absl::StatusOr<Reply> r) {
      std::lock_guard<std::mutex> lock(results_mu);
      results.push_back(r.status());
    });
  }
  for (int i = 0; i <= 4; ++i) {
    scaler.Tick();
    clock.Advance(absl::Milliseconds(250));
  }
  EXPECT_EQ(pool.Stats().target_workers, 7);  // ceil(5 / 0.8)
  EXPECT_EQ(pool.Stats().desired_workers, 7);
  ASSERT_TRUE(Eventually([&] { return pool.Stats().workers == 7; }));
  // The queued calls went to the new workers.
  ASSERT_TRUE(Eventually([&] { return pool.Stats().in_flight == 5; }));
  for (int id = 0; id < fleet.made(); ++id) {
    while (fleet[id]->Reply()) {
    }
  }
  for (int i = 0; i <= 13; ++i) {  // idle_timeout 3 s
    scaler.Tick();
    clock.Advance(absl::Milliseconds(250));
  }
  EXPECT_EQ(pool.Stats().target_workers, 1);
  ASSERT_TRUE(Eventually([&] { return pool.Stats().workers == 1; }));
  {
    std::lock_guard<std::mutex> lock(results_mu);
    ASSERT_EQ(results.size(), 5u);
    for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  }
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::string> scalings;
  for (const Event& e : events) {
    if (e.type == EventType::kPoolScaling) {
      scalings.push_back(absl::StrCat(e.reason, " ", e.previous_size, "->", e.target_size));
    }
  }
  EXPECT_EQ(scalings, (std::vector<std::string>{"load 1->7", "idle 7->1"}));
  EXPECT_EQ(pool.Stats().scale_ups, 1u);
  EXPECT_EQ(pool.Stats().scale_downs, 1u);
}

}  // namespace
}  // namespace snakepit::internal
