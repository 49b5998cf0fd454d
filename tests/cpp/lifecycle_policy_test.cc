// The LifecycleManager's decisions without Python: a real Pool over fake
// workers and a fake clock, the manager ticked by hand, and memory figures
// from a fake reader. End to end: recycle_test, memory_recycle_test,
// crash_restart_test (health) with real workers.
#include <map>
#include <mutex>
#include <vector>

#include "fake_pool.h"
#include "gtest/gtest.h"
#include "lifecycle/lifecycle_manager.h"

namespace snakepit::internal {
namespace {

using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;

class LifecyclePolicyTest : public ::testing::Test {
 protected:
  PoolConfig Config() {
    PoolConfig config;
    config.name = "l";
    config.pool_size = 1;
    config.max_surge = 1;
    config.drain_timeout = std::chrono::milliseconds(0);
    config.memory_check_interval = std::chrono::milliseconds(1000);
    config.health_check_interval = std::chrono::milliseconds(0);
    return config;
  }
  void Make(const PoolConfig& config) {
    pool_ = std::make_unique<Pool>(
        config, fleet_.Factory(),
        [this](Event e) {
          std::lock_guard<std::mutex> lock(mu_);
          events_.push_back(e);
        },
        nullptr, &clock_);
    ASSERT_TRUE(pool_->Start().ok());
    lifecycle_ = std::make_unique<LifecycleManager>(
        *pool_, clock_,
        [this](int pid) -> absl::StatusOr<ProcessMemory> {
          std::lock_guard<std::mutex> lock(mu_);
          measured_pids_.push_back(pid);
          ProcessMemory m;
          m.pss_bytes = pss_by_pid_[pid];
          m.rss_bytes = m.pss_bytes;
          m.processes = 1;
          return m;
        },
        LifecycleManager::Mode::kManual);
  }
  std::vector<Event> EventsOf(EventType type) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  void TearDown() override {
    lifecycle_.reset();
    pool_.reset();
  }

  FakeClock clock_;
  FakeFleet fleet_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<LifecycleManager> lifecycle_;
  std::mutex mu_;
  std::vector<Event> events_;
  std::map<int, std::int64_t> pss_by_pid_;
  std::vector<int> measured_pids_;
};

TEST_F(LifecyclePolicyTest, TtlRecyclesOnceItHasPassed) {
  PoolConfig config = Config();
  config.worker_ttl = std::chrono::milliseconds(1000);
  config.worker_ttl_jitter = std::chrono::milliseconds(0);
  Make(config);
  clock_.Advance(absl::Milliseconds(999));
  lifecycle_->Tick();
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(fleet_.made(), 1);
  clock_.Advance(absl::Milliseconds(1));
  lifecycle_->Tick();
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().recycles.count("ttl") == 1; }));
  EXPECT_EQ(fleet_.made(), 2);
  EXPECT_EQ(pool_->Stats().workers, 1);
  // The event is delivered after the books are updated: wait for it too.
  ASSERT_TRUE(Eventually([&] { return EventsOf(EventType::kWorkerRecycled).size() == 1; }));
  EXPECT_EQ(EventsOf(EventType::kWorkerRecycled)[0].reason, "ttl");
}

TEST_F(LifecyclePolicyTest, MemoryIsMeasuredOnTheWorkersOwnProcessAndRecyclesOverTheLimit) {
  PoolConfig config = Config();
  config.worker_max_memory_mb = 100;
  Make(config);
  const int pid = 10'000;  // FakeWorker 0's pid
  pss_by_pid_[pid] = 50ll << 20;
  lifecycle_->Tick();
  EXPECT_EQ(measured_pids_, std::vector<int>{pid});
  EXPECT_EQ(pool_->Stats().per_worker[0].pss_bytes, 50ll << 20);
  // Not measured again before memory_check_interval.
  pss_by_pid_[pid] = 200ll << 20;
  clock_.Advance(absl::Milliseconds(999));
  lifecycle_->Tick();
  EXPECT_EQ(measured_pids_.size(), 1u);
  clock_.Advance(absl::Milliseconds(1));
  lifecycle_->Tick();
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().recycles.count("memory") == 1; }));
  ASSERT_TRUE(Eventually([&] { return EventsOf(EventType::kWorkerRecycled).size() == 1; }));
  const std::vector<Event> recycled = EventsOf(EventType::kWorkerRecycled);
  EXPECT_EQ(recycled[0].memory_bytes, 200ll << 20);
}

TEST_F(LifecyclePolicyTest, HealthFailuresInARowKillTheWorker) {
  PoolConfig config = Config();
  config.health_check_interval = std::chrono::milliseconds(500);
  config.health_check_failures = 2;
  Make(config);
  lifecycle_->Tick();  // first sight: the first probe is due one interval later
  EXPECT_FALSE(fleet_[0]->AnswerHealth(absl::OkStatus()));
  for (int round = 1; round <= 3; ++round) {
    clock_.Advance(absl::Milliseconds(500));
    lifecycle_->Tick();
    // Round 1 fails, round 2 passes (the count starts again), then 2 fail.
    const bool pass = round == 2;
    ASSERT_TRUE(fleet_[0]->AnswerHealth(pass ? absl::OkStatus() : absl::UnavailableError("no answer")));
  }
  EXPECT_FALSE(fleet_.exited(0));
  clock_.Advance(absl::Milliseconds(500));
  lifecycle_->Tick();
  ASSERT_TRUE(fleet_[0]->AnswerHealth(absl::UnavailableError("no answer")));
  ASSERT_TRUE(Eventually([&] { return fleet_.exited(0); }));
  EXPECT_TRUE(Eventually([&] { return EventsOf(EventType::kHealthCheckFailed).size() == 3; }));
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().recycles.count("health_check") == 1; }));
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().workers == 1 && fleet_.made() == 2; }));
}

}  // namespace
}  // namespace snakepit::internal
