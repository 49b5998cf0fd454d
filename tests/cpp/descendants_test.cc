// No process an adapter starts outlives its worker (issue 14, item 5): the
// adapter (tests/python/adapters/escapes.py) starts `sleep 1000` in a
// session of its own, and an orphaned `sleep 1000` whose parent has exited;
// after a shutdown, a recycle, or a kill by call_kill_timeout, neither
// remains. Real workers; the sleepers are polled in /proc, with a deadline.
#include <signal.h>

#include <vector>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

nlohmann::json EscapesPool(nlohmann::json pool) {
  pool["adapter"] = "escapes:EscapesAdapter";
  return pool;
}

// Starts one sleeper of each kind on the pool's worker; their pids.
std::vector<pid_t> StartSleepers(PoolManager& pools) {
  std::vector<pid_t> pids;
  for (const char* command : {"spawn_sleeper", "spawn_orphan"}) {
    absl::StatusOr<nlohmann::json> pid = pools.execute("p", command, {}, CallOptions{.timeout = milliseconds(30'000)});
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (pid.ok()) pids.push_back(pid->get<pid_t>());
  }
  for (pid_t pid : pids) EXPECT_TRUE(testing::ProcessAlive(pid)) << pid;
  return pids;
}

// Whether none of `pids` is alive (a zombie counts as gone) within 5 s.
bool AllGone(const std::vector<pid_t>& pids) {
  return testing::WaitFor(
      [&] {
        for (pid_t pid : pids) {
          if (testing::ProcessAlive(pid)) return false;
        }
        return true;
      },
      milliseconds(5'000));
}

// Test hygiene: whatever the outcome, no sleeper outlives the test.
void KillAll(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) {
    if (testing::ProcessAlive(pid)) ::kill(pid, SIGKILL);
  }
}

TEST(Descendants, NoneOutlivesShutdown) {
  EventLog log;
  auto pools =
      testing::StartOrDie(testing::MakeConfig({EscapesPool({{"name", "p"}, {"pool_size", 1}})}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::vector<pid_t> sleepers = StartSleepers(*pools);
  ASSERT_EQ(sleepers.size(), 2u);
  pools->shutdown();
  EXPECT_TRUE(AllGone(sleepers));
  KillAll(sleepers);
}

TEST(Descendants, NoneOutlivesARecycle) {
  EventLog log;
  auto pools =
      testing::StartOrDie(testing::MakeConfig({EscapesPool({{"name", "p"}, {"pool_size", 1}})}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::vector<pid_t> sleepers = StartSleepers(*pools);
  ASSERT_EQ(sleepers.size(), 2u);
  const WorkerStats victim = pools->stats("p")->per_worker.at(0);
  ASSERT_TRUE(pools->recycle_worker("p", victim.id).ok());
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "manual", 1, milliseconds(15'000)));
  EXPECT_TRUE(AllGone(sleepers));
  KillAll(sleepers);
  pools->shutdown();
}

TEST(Descendants, NoneOutlivesAKillByCallKillTimeout) {
  EventLog log;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({EscapesPool({{"name", "p"}, {"pool_size", 1}, {"call_kill_timeout", 0.3}})}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::vector<pid_t> sleepers = StartSleepers(*pools);
  ASSERT_EQ(sleepers.size(), 2u);
  // time.sleep: nothing but a signal ends it, so the worker is SIGKILLed.
  absl::StatusOr<nlohmann::json> r =
      pools->execute("p", "hang", {{"seconds", 30}}, CallOptions{.timeout = milliseconds(300)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "call_kill_timeout", 1, milliseconds(5'000)));
  EXPECT_TRUE(AllGone(sleepers));
  KillAll(sleepers);
  pools->shutdown();
}

}  // namespace
}  // namespace snakepit
