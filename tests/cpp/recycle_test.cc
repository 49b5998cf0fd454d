// Graceful recycling by request count, TTL and hand, and forced replacement
// of hung workers (call_kill_timeout, health checks). Real workers; every
// test also checks that no process, zombie or socket file is left behind.
#include <signal.h>

#include <future>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

// While workers come and go, the socket directory holds exactly one socket
// per worker the pool has (starting, ready or draining ones included).
void ExpectOneSocketPerWorker(PoolManager& pools, const std::string& pool, const std::string& dir) {
  const PoolStats stats = *pools.stats(pool);
  EXPECT_LE(testing::SocketFiles(dir).size(), stats.per_worker.size());
}

// TTL and request-limit recycling: their policy (limits, jitter, never a
// call beyond the limit) runs on a fake clock in pool_policy_test and
// lifecycle_policy_test; end to end, with real workers under load, in
// zero_failure_test (kinds ttl and max_requests).

TEST(Recycle, ManualRecycleReplacesTheWorker) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  const WorkerStats victim = pools->stats("p")->per_worker.at(0);
  ASSERT_TRUE(pools->recycle_worker("p", victim.id).ok());
  EXPECT_EQ(pools->recycle_worker("p", victim.id).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "manual", 1, milliseconds(15'000)));
  ASSERT_EQ(log.Of(EventType::kWorkerDraining, "manual").size(), 1u);
  EXPECT_EQ(log.Of(EventType::kWorkerRecycled, "manual")[0].pid, victim.pid);
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(victim.pid); }, milliseconds(5'000)));
  EXPECT_THAT(testing::WorkerPids(*pools, "p"), ::testing::Not(::testing::Contains(victim.pid)));
  EXPECT_EQ(pools->stats("p")->workers, 2);
  EXPECT_EQ(pools->stats("p")->recycles.at("manual"), 1u);
  ExpectOneSocketPerWorker(*pools, "p", dir);  // the recycled worker's socket is gone

  EXPECT_EQ(pools->recycle_worker("p", 999).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pools->recycle_worker("nope", 0).code(), absl::StatusCode::kNotFound);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

TEST(Recycle, RecycleDrainsTheCallInFlight) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  const int victim = testing::WorkerPids(*pools, "p").at(0);
  auto slow = pools->execute_async("p", "sleep", {{"ms", 1'500}});
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->in_flight == 1; }, milliseconds(2'000)));
  ASSERT_TRUE(pools->recycle_worker("p", pools->stats("p")->per_worker.at(0).id).ok());
  // The call in flight finishes on the old worker rather than being killed.
  absl::StatusOr<nlohmann::json> r = slow.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->at("pid").get<int>(), victim);
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "manual", 1, milliseconds(10'000)));
  testing::ExpectCleanShutdown(*pools, log, dir);
}

TEST(Recycle, HungCallGetsItsWorkerKilledAndReplaced) {
  EventLog log;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}, {"call_kill_timeout", 0.3}})}),
      log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  const int victim = testing::WorkerPids(*pools, "p").at(0);
  // time.sleep in a process worker: nothing but a signal ends it.
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<nlohmann::json> r =
      pools->execute("p", "sleep", {{"ms", 30'000}}, CallOptions{.timeout = milliseconds(300)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1'500));
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "call_kill_timeout", 1, milliseconds(5'000)));
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(victim); }, milliseconds(2'000)));
  // Before the kill, the worker said where it hung: the handler thread in
  // the adapter's sleep command.
  const std::string stacks = log.Of(EventType::kWorkerRecycled, "call_kill_timeout").at(0).python_stacks;
  EXPECT_NE(stacks.find("showcase.py"), std::string::npos) << stacks;
  EXPECT_NE(stacks.find(" in sleep"), std::string::npos) << stacks;
  // The next calls succeed, on the replacement.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid", {}, CallOptions{.timeout = milliseconds(15'000)});
    ASSERT_TRUE(pid.ok()) << pid.status();
    EXPECT_NE(pid->get<int>(), victim);
  }
  EXPECT_EQ(log.Of(EventType::kWorkerCrashed).size(), 0u);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

TEST(Recycle, WorkerThatStopsAnsweringHealthChecksIsReplaced) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"},
                                                                                     {"pool_size", 1},
                                                                                     {"health_check_interval", 0.1},
                                                                                     {"health_check_timeout", 0.2},
                                                                                     {"health_check_failures", 2}})}),
                                   log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  // Healthy workers pass their checks.
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_TRUE(log.Of(EventType::kHealthCheckFailed).empty());
  const int victim = testing::WorkerPids(*pools, "p").at(0);
  ASSERT_EQ(::kill(victim, SIGSTOP), 0);
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "health_check", 1, milliseconds(5'000)));
  EXPECT_GE(log.Of(EventType::kHealthCheckFailed).size(), 2u);
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(victim); }, milliseconds(2'000)));
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->workers == 1; }, milliseconds(15'000)));
  absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_NE(pid->get<int>(), victim);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

}  // namespace
}  // namespace snakepit
