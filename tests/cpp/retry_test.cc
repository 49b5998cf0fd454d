// Optional retries: an idempotent call whose worker dies runs again on
// another worker, a bounded number of times, within its deadline; any other
// call is never retried.
#include <signal.h>

#include <future>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// Starts `sleep` with `tag` and SIGKILLs the worker running it.
absl::StatusOr<nlohmann::json> KillMidCall(PoolManager& pools, const CallOptions& options) {
  auto call = pools.execute_async("p", "sleep", {{"ms", 800}, {"tag", 7}}, options);
  int victim = 0;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        const PoolStats stats = *pools.stats("p");
        for (const WorkerStats& w : stats.per_worker) {
          if (w.in_flight == 1) victim = w.pid;
        }
        return victim > 0;
      },
      milliseconds(5'000)));
  std::this_thread::sleep_for(milliseconds(100));  // inside the Python call
  ::kill(victim, SIGKILL);
  return call.get();
}

TEST(Retry, IdempotentCallSurvivesItsWorkersDeath) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  absl::StatusOr<nlohmann::json> r = KillMidCall(*pools, {.timeout = milliseconds(10'000), .idempotent = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["tag"], 7);
  const PoolStats stats = *pools->stats("p");
  EXPECT_EQ(stats.retries, 1u);
  EXPECT_EQ(stats.crashes, 1u);
  EXPECT_EQ(stats.errors, 0u);
}

TEST(Retry, CallsThatAreNotIdempotentAreNeverRetried) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  absl::StatusOr<nlohmann::json> r = KillMidCall(*pools, {.timeout = milliseconds(10'000)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(pools->stats("p")->retries, 0u);
}

TEST(Retry, AttemptsAreBounded) {
  testing::EventLog log;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 3}})}), log.Handler());
  // `exit` kills whichever worker runs it: every attempt fails.
  absl::StatusOr<nlohmann::json> r = pools->execute(
      "p", "exit", {{"code", 3}}, {.timeout = milliseconds(10'000), .idempotent = true, .max_attempts = 3});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerCrashed, "", 3, milliseconds(5'000)));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(log.Of(EventType::kWorkerCrashed).size(), 3u) << "exactly max_attempts runs";
  EXPECT_EQ(pools->stats("p")->retries, 2u);
}

TEST(Retry, RetriesStayWithinTheCallsDeadline) {
  auto pools =
      testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}, {"restart_backoff_initial", 0.05}}}));
  const auto t0 = std::chrono::steady_clock::now();
  auto call = pools->execute_async("p", "sleep", {{"ms", 3'000}},
                                   {.timeout = milliseconds(1'500), .idempotent = true, .max_attempts = 5});
  std::this_thread::sleep_for(milliseconds(300));
  ::kill(testing::WorkerPids(*pools, "p").at(0), SIGKILL);
  absl::StatusOr<nlohmann::json> r = call.get();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_LT(took, milliseconds(2'500));
  EXPECT_GE(took, milliseconds(1'400));
}

}  // namespace
}  // namespace snakepit
