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
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
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

  // The dead worker is reported dead at once, never ready.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const PoolStats stats = *pools->stats("p");
        for (const WorkerStats& w : stats.per_worker) {
          if (w.pid == victim) return w.state == WorkerState::kDead;
        }
        return false;
      },
      milliseconds(1000)));
  EXPECT_EQ(pools->stats("p")->workers, 1);
  // The survivor takes every following call; none goes to the dead one.
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
    ASSERT_TRUE(pid.ok()) << pid.status();
    EXPECT_NE(pid->get<int>(), victim);
  }
}

TEST(WorkerDeath, AllCallsOnAThreadWorkerFailWhenItDies) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 4}}}));
  ASSERT_NE(pools, nullptr);
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 6; ++i) calls.push_back(pools->execute_async("t", "sleep", {{"ms", 20'000}}));  // 4 run, 2 wait
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("t")->queued == 2; }, milliseconds(2000)));
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_EQ(::kill(testing::WorkerPids(*pools, "t").at(0), SIGKILL), 0);
  for (auto& f : calls) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    EXPECT_EQ(f.get().status().code(), absl::StatusCode::kUnavailable);
  }
  // No live worker left: a new call fails at once instead of queueing.
  EXPECT_EQ(pools->execute("t", "ping").status().code(), absl::StatusCode::kUnavailable);
}

TEST(WorkerDeath, AdapterThatExitsTheProcessIsUnavailable) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("p", "exit", {{"code", 7}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace snakepit
