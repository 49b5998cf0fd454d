// The Inspector's recommendations fire on constructed situations, with the
// numbers that triggered them, and stay quiet otherwise. Real workers.
#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "snakepit/inspector.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// Short windows so the tests run in seconds.
constexpr InspectorOptions kFast{.min_window = milliseconds(1'000)};

std::vector<Recommendation> Of(const InspectionReport& report, const std::string& kind) {
  std::vector<Recommendation> out;
  for (const PoolReport& p : report.pools) {
    for (const Recommendation& r : p.recommendations) {
      if (r.kind == kind) out.push_back(r);
    }
  }
  return out;
}

std::string All(const InspectionReport& report) { return report.ToText(); }

// `callers` threads call `command` on `pool` until `duration` passes.
void Load(PoolManager& pools, const std::string& pool, int callers, const std::string& command,
          const nlohmann::json& args, milliseconds duration) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&] {
      while (!stop.load()) EXPECT_TRUE(pools.execute(pool, command, args).ok());
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  for (std::thread& t : threads) t.join();
}

TEST(Recommendations, SaturatedPoolAsksForMoreWorkers) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  Inspector inspector(*pools, kFast);
  (void)inspector.Inspect();
  Load(*pools, "p", 3, "sleep", {{"ms", 30}}, milliseconds(1'500));
  const InspectionReport report = inspector.Inspect();
  const std::vector<Recommendation> r = Of(report, "pool_saturated");
  ASSERT_EQ(r.size(), 1u) << All(report);
  EXPECT_GE(r[0].facts["queue_nonempty_fraction"].get<double>(), 0.5);
  EXPECT_NE(r[0].message.find("raise pool_size (now 1)"), std::string::npos) << r[0].message;
}

TEST(Recommendations, GilBoundThreadPoolIsToldToUseProcesses) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 2}}}));
  Inspector inspector(*pools, kFast);
  (void)inspector.Inspect();
  Load(*pools, "t", 2, "cpu_loop", {{"n", 200'000}}, milliseconds(2'000));
  const InspectionReport report = inspector.Inspect();
  const std::vector<Recommendation> r = Of(report, "gil_bound_thread_pool");
  ASSERT_EQ(r.size(), 1u) << All(report) << report.ToJson().dump();
  EXPECT_GE(r[0].facts["calls_at_once_per_worker"].get<double>(), 1.5);
  EXPECT_LE(r[0].facts["cpu_cores_per_worker"].get<double>(), 1.15);
  EXPECT_NE(r[0].message.find("use the process profile"), std::string::npos) << r[0].message;
}

TEST(Recommendations, ThreadPoolWaitingOnIoIsNotGilBound) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 2}}}));
  Inspector inspector(*pools, kFast);
  (void)inspector.Inspect();
  Load(*pools, "t", 2, "sleep", {{"ms", 20}}, milliseconds(1'500));
  const InspectionReport report = inspector.Inspect();
  EXPECT_TRUE(Of(report, "gil_bound_thread_pool").empty()) << All(report);
}

TEST(Recommendations, IdleProcessPoolCouldSaveMemoryWithThreads) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 4}}}));
  Inspector inspector(*pools, kFast);
  std::this_thread::sleep_for(milliseconds(1'200));
  const InspectionReport report = inspector.Inspect();
  const std::vector<Recommendation> r = Of(report, "process_pool_underused");
  ASSERT_EQ(r.size(), 1u) << All(report);
  // 4 workers would become 1: about three workers' PSS saved.
  const double pss = r[0].facts["pss_mib"].get<double>();
  EXPECT_NEAR(r[0].facts["estimated_saving_mib"].get<double>(), pss * 3 / 4, 0.01 * pss);
  EXPECT_GT(pss, 10);
}

TEST(Recommendations, WorkerNearItsMemoryLimitIsReported) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter(
      {{"name", "p"}, {"pool_size", 1}, {"worker_max_memory_mb", 200}, {"memory_check_interval", 60}})}));
  ASSERT_TRUE(pools->execute("p", "allocate", {{"mb", 150}}).ok());
  const InspectionReport report = Inspector(*pools, kFast).Inspect();
  const std::vector<Recommendation> r = Of(report, "near_memory_limit");
  ASSERT_EQ(r.size(), 1u) << All(report);
  EXPECT_GE(r[0].facts["pss_mib"].get<double>(), 160);
  EXPECT_EQ(r[0].facts["limit_mib"], 200);
}

TEST(Recommendations, ThreadUnsafeLibraryInAThreadPool) {
  testing::EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "t"},
                                                         {"profile", "thread"},
                                                         {"pool_size", 1},
                                                         {"threads_per_worker", 2},
                                                         {"adapter", "uses_unsafe_library:UsesUnsafeLibrary"}}}),
                                   log.Handler());
  const InspectionReport report = Inspector(*pools, kFast).Inspect();
  const std::vector<Recommendation> r = Of(report, "thread_unsafe_library");
  ASSERT_EQ(r.size(), 1u) << All(report);
  EXPECT_EQ(r[0].facts["library"], "httplib2");
  // Also warned at start, as an event.
  ASSERT_TRUE(log.WaitFor(EventType::kPoolWarning, "unsafe_library", 1, milliseconds(2'000)));
  EXPECT_NE(log.Of(EventType::kPoolWarning, "unsafe_library")[0].message.find("httplib2"), std::string::npos);
}

// The checker's findings reach the inspector from the Python worker.
std::vector<Recommendation> CheckedCounter(const std::string& adapter) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "t"},
                                                         {"profile", "thread"},
                                                         {"pool_size", 1},
                                                         {"threads_per_worker", 4},
                                                         {"thread_safety_checks", true},
                                                         {"adapter", adapter}}}));
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 8; ++i) calls.push_back(pools->execute_async("t", "incr", {{"sleep_ms", 50}}));
  for (auto& c : calls) EXPECT_TRUE(c.get().ok());
  return Of(Inspector(*pools, kFast).Inspect(), "unlocked_concurrent_entry");
}

TEST(Recommendations, ThreadSafetyCheckerFlagsARacyAdapter) {
  const std::vector<Recommendation> r = CheckedCounter("racy_counter:RacyCounter");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].facts["method"], "RacyCounter.incr");
  EXPECT_GE(r[0].facts["threads"].get<int>(), 2);
  EXPECT_NE(r[0].message.find("count"), std::string::npos) << r[0].message;
}

TEST(Recommendations, ThreadSafetyCheckerIsQuietOnALockedAdapter) {
  EXPECT_TRUE(CheckedCounter("locked_counter:LockedCounter").empty());
}

TEST(Recommendations, HealthyPoolGetsNone) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  Inspector inspector(*pools, kFast);
  (void)inspector.Inspect();
  Load(*pools, "p", 1, "sleep", {{"ms", 5}}, milliseconds(1'200));
  const InspectionReport report = inspector.Inspect();
  EXPECT_TRUE(report.pools[0].recommendations.empty()) << All(report);
}

}  // namespace
}  // namespace snakepit
