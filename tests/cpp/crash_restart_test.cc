// Crashed workers: the caller of the dead worker hears at once, nobody else
// notices, the pool heals; a worker that cannot start degrades the pool
// visibly, with a bounded restart rate, and the pool recovers by itself.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

TEST(CrashRestart, KilledMidCallFailsThatCallOnlyAndThePoolHeals) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 3}}}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  auto victim_call = pools->execute_async("p", "sleep", {{"ms", 20'000}});
  int victim = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const PoolStats stats = *pools->stats("p");
        for (const WorkerStats& w : stats.per_worker) {
          if (w.in_flight > 0) victim = w.pid;
        }
        return victim != 0;
      },
      milliseconds(2'000)));
  std::this_thread::sleep_for(milliseconds(100));  // let the call reach Python

  // Other callers keep the rest of the pool busy throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 2; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        absl::StatusOr<nlohmann::json> r = pools->execute("p", "add", {{"a", 1}, {"b", 2}});
        (r.ok() ? ok : failed)++;
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(200));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_EQ(victim_call.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1'000));
  EXPECT_EQ(victim_call.get().status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::vector<int> pids = testing::WorkerPids(*pools, "p");
        return pids.size() == 3 && std::find(pids.begin(), pids.end(), victim) == pids.end();
      },
      milliseconds(15'000)));
  std::this_thread::sleep_for(milliseconds(200));
  stop = true;
  for (std::thread& t : load) t.join();
  EXPECT_EQ(failed.load(), 0) << "calls on other workers must not fail";
  EXPECT_GT(ok.load(), 0);
  const std::vector<Event> crashed = log.Of(EventType::kWorkerCrashed);
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_EQ(crashed[0].pid, victim);
  EXPECT_EQ(crashed[0].signal, SIGKILL);
  const PoolStats stats = *pools->stats("p");
  EXPECT_EQ(stats.crashes, 1u);
  EXPECT_EQ(stats.restarts, 1u);
  EXPECT_FALSE(stats.degraded);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

TEST(CrashRestart, WorkerThatCrashesOnImportDegradesThePoolAtABoundedRate) {
  const std::string boom = ::testing::TempDir() + "snakepit_boom_switch_" + std::to_string(::getpid());
  std::filesystem::remove(boom);
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"},
                                                         {"pool_size", 1},
                                                         {"adapter", "boom_switch:Adapter"},
                                                         {"env", {{"BOOM_SWITCH", boom}}},
                                                         {"restart_backoff_initial", 0.1},
                                                         {"restart_backoff_max", 0.4},
                                                         {"degraded_after_failures", 3}}}),
                                   log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  std::ofstream(boom) << "on\n";
  ASSERT_EQ(::kill(testing::WorkerPids(*pools, "p").at(0), SIGKILL), 0);

  ASSERT_TRUE(log.WaitFor(EventType::kPoolDegraded, "", 1, milliseconds(15'000)));
  const PoolStats degraded = *pools->stats("p");
  EXPECT_TRUE(degraded.degraded);
  EXPECT_GE(degraded.consecutive_start_failures, 3);
  EXPECT_THAT(degraded.last_start_error, ::testing::HasSubstr("exit status 3"));
  // Callers are told at once, with the reason, instead of queueing.
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<nlohmann::json> r = pools->execute("p", "ping");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("degraded"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));

  // Bounded restart rate: the backoff doubles up to restart_backoff_max.
  const std::size_t failures_before = log.Of(EventType::kWorkerStartFailed).size();
  std::this_thread::sleep_for(milliseconds(2'000));
  const std::size_t failures_in_2s = log.Of(EventType::kWorkerStartFailed).size() - failures_before;
  EXPECT_LE(failures_in_2s, 6u) << "at most one start per 400 ms, plus start-up time";
  EXPECT_GE(failures_in_2s, 1u) << "it keeps trying";
  std::chrono::milliseconds previous{0};
  for (const Event& e : log.Of(EventType::kRestartBackoff)) {
    EXPECT_GE(e.backoff, previous);
    EXPECT_LE(e.backoff, milliseconds(400));
    previous = e.backoff;
  }

  // Fix the cause: the pool recovers by itself.
  std::filesystem::remove(boom);
  ASSERT_TRUE(log.WaitFor(EventType::kPoolRecovered, "", 1, milliseconds(10'000)));
  EXPECT_TRUE(pools->execute("p", "ping").ok());
  EXPECT_FALSE(pools->stats("p")->degraded);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

}  // namespace
}  // namespace snakepit
