// Memory recycling measures the Python worker process itself (not the host,
// not a parent shell), from /proc, and replaces a worker over its limit.
#include <unistd.h>

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

constexpr std::int64_t kMiB = std::int64_t{1} << 20;

TEST(MemoryRecycle, MeasuresThePythonWorkerProcessItself) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter(
                                       {{"name", "p"}, {"pool_size", 1}, {"memory_check_interval", 0.1}})}),
                                   log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(pools->execute("p", "allocate", {{"mb", 200}}).ok());
  // Samples come every 100 ms; wait for a few taken after the allocation.
  std::this_thread::sleep_for(milliseconds(400));
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->per_worker.at(0).rss_bytes >= 200 * kMiB; },
                               milliseconds(3'000)));
  const WorkerStats w = pools->stats("p")->per_worker.at(0);
  // The figure is the worker's: its pid is the one Python reports, and it
  // matches the kernel's VmRSS of that pid (the host is far smaller).
  EXPECT_EQ(w.pid, pid->get<int>());
  const std::int64_t vm_rss = testing::VmRssBytes(w.pid);
  EXPECT_NEAR(static_cast<double>(w.rss_bytes), static_cast<double>(vm_rss),
              std::max(0.1 * static_cast<double>(vm_rss), 8.0 * kMiB));
  EXPECT_LE(w.pss_bytes, w.rss_bytes);
  EXPECT_GE(w.pss_bytes, 190 * kMiB);
  EXPECT_LT(testing::VmRssBytes(::getpid()), 150 * kMiB) << "the test host itself is not what was measured";
  EXPECT_TRUE(log.Of(EventType::kWorkerRecycled).empty()) << "no limit, no recycle";
  testing::ExpectCleanShutdown(*pools, log, dir);
}

TEST(MemoryRecycle, WorkerOverTheLimitIsRecycled) {
  EventLog log;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter(
          {{"name", "p"}, {"pool_size", 1}, {"worker_max_memory_mb", 150}, {"memory_check_interval", 0.1}})}),
      log.Handler());
  ASSERT_NE(pools, nullptr);
  const std::string dir = testing::SocketDir(*pools, "p");
  const int victim = testing::WorkerPids(*pools, "p").at(0);
  // A fresh worker is well under the limit.
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_TRUE(log.Of(EventType::kWorkerRecycled).empty());

  ASSERT_TRUE(pools->execute("p", "allocate", {{"mb", 200}}).ok());
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "memory", 1, milliseconds(10'000)));
  const Event recycled = log.Of(EventType::kWorkerRecycled, "memory").at(0);
  EXPECT_EQ(recycled.pid, victim);
  // The figure that crossed the limit (it may be sampled mid-allocation).
  EXPECT_GT(recycled.memory_bytes, 150 * kMiB);
  EXPECT_LT(recycled.memory_bytes, 400 * kMiB);
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(victim); }, milliseconds(5'000)));
  absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_NE(pid->get<int>(), victim);
  EXPECT_EQ(pools->stats("p")->recycles.at("memory"), 1u);
  testing::ExpectCleanShutdown(*pools, log, dir);
}

}  // namespace
}  // namespace snakepit
