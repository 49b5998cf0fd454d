// A worker that dies mid-call never leaves its caller hanging, and is never
// reported healthy or given calls once it is known dead.
#include <signal.h>

#include <future>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// The pid of the pool's worker that has a call in flight.
int BusyWorkerPid(PoolManager& pools, const std::string& pool) {
  const PoolStats stats = *pools.stats(pool);
  for (const WorkerStats& w : stats.per_worker) {
    if (w.in_flight > 0) return w.pid;
  }
  return 0;
}

TEST(WorkerDeath, CallInFlightFailsPromptlyWithUnavailable) {
  auto pools =
      testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 2}})}));
  ASSERT_NE(pools, nullptr);
  auto victim_call = pools->execute_async("p", "sleep", {{"ms", 20'000}});
  ASSERT_TRUE(testing::WaitFor([&] { return BusyWorkerPid(*pools, "p") != 0; }, milliseconds(2000)));
  const int victim = BusyWorkerPid(*pools, "p");
  // Let the call reach Python before the kill.
  std::this_thread::sleep_for(milliseconds(100));

  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_EQ(victim_call.wait_for(std::chrono::seconds(1)), std::future_status::ready)
      << "the caller of a dead worker must not hang";
  const auto waited = std::chrono::steady_clock::now() - t0;
  absl::StatusOr<nlohmann::json> r = victim_call.get();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_LT(waited, milliseconds(1000));

  // From now on the dead worker is reported dead (or is gone, replaced),
  // never ready, and gets no call.
  auto victim_reported_ready = [&] {
    const PoolStats stats = *pools->stats("p");
    for (const WorkerStats& w : stats.per_worker) {
      if (w.pid == victim && w.state != WorkerState::kDead) return true;
    }
    return false;
  };
  EXPECT_FALSE(victim_reported_ready());
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
    ASSERT_TRUE(pid.ok()) << pid.status();
    EXPECT_NE(pid->get<int>(), victim);
    EXPECT_FALSE(victim_reported_ready());
  }
  // And the pool is back to full size with a new process.
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->workers == 2; }, milliseconds(10'000)));
  EXPECT_THAT(testing::WorkerPids(*pools, "p"), ::testing::Not(::testing::Contains(victim)));
}

TEST(WorkerDeath, CallsRunningOnAThreadWorkerFailWhenItDiesAndQueuedOnesSurvive) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 4}}}));
  ASSERT_NE(pools, nullptr);
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> running;
  for (int i = 0; i < 4; ++i) running.push_back(pools->execute_async("t", "sleep", {{"ms", 20'000}}));
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> queued;
  for (int i = 0; i < 2; ++i) queued.push_back(pools->execute_async("t", "ping"));
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("t")->queued == 2; }, milliseconds(2000)));
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_EQ(::kill(testing::WorkerPids(*pools, "t").at(0), SIGKILL), 0);
  // Every call running on the dead process fails promptly...
  for (auto& f : running) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(1)), std::future_status::ready);
    EXPECT_EQ(f.get().status().code(), absl::StatusCode::kUnavailable);
  }
  // ...while the queued ones wait for the replacement and succeed on it.
  for (auto& f : queued) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    absl::StatusOr<nlohmann::json> r = f.get();
    EXPECT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(pools->stats("t")->crashes, 1u);
}

TEST(WorkerDeath, AdapterThatExitsTheProcessIsUnavailable) {
  auto pools =
      testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("p", "exit", {{"code", 7}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace snakepit
