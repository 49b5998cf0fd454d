// The thread profile really runs calls at once in ONE process, and the
// router never gives a worker more calls than its capacity. Overlap is
// judged on the timestamps the worker itself reports, not on wall time.
#include <algorithm>
#include <future>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

struct Span {
  int64_t start_ns;
  int64_t end_ns;
  uint64_t thread;
  int pid;
};

std::vector<Span> RunSleeps(PoolManager& pools, const std::string& pool, int n, int ms,
                            std::function<void()> while_running = nullptr) {
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < n; ++i) calls.push_back(pools.execute_async(pool, "sleep", {{"ms", ms}}));
  if (while_running) while_running();
  std::vector<Span> spans;
  for (auto& f : calls) {
    absl::StatusOr<nlohmann::json> r = f.get();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    spans.push_back({(*r)["start_ns"].get<int64_t>(), (*r)["end_ns"].get<int64_t>(), (*r)["thread"].get<uint64_t>(),
                     (*r)["pid"].get<int>()});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.start_ns < b.start_ns; });
  return spans;
}

TEST(ThreadProfile, CallsOverlapOnOneWorker) {
  constexpr int kThreads = 4;
  auto pools = testing::StartOrDie(testing::MakeConfig(
      {{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", kThreads}}}));
  ASSERT_NE(pools, nullptr);
  ASSERT_EQ(pools->stats("t")->capacity, kThreads);

  std::vector<Span> spans = RunSleeps(*pools, "t", kThreads, 300);
  ASSERT_EQ(spans.size(), static_cast<size_t>(kThreads));
  std::set<int> pids;
  std::set<uint64_t> threads;
  int64_t latest_start = 0, earliest_end = INT64_MAX;
  for (const Span& s : spans) {
    pids.insert(s.pid);
    threads.insert(s.thread);
    latest_start = std::max(latest_start, s.start_ns);
    earliest_end = std::min(earliest_end, s.end_ns);
  }
  EXPECT_EQ(pids.size(), 1u) << "all calls must run in the one worker process";
  EXPECT_EQ(threads.size(), static_cast<size_t>(kThreads)) << "each call on its own thread";
  // Every call had started before any had finished: they all ran at once.
  EXPECT_LT(latest_start, earliest_end);
  // Together they took about one sleep, not four.
  EXPECT_LT(spans.back().end_ns - spans.front().start_ns, 2 * 300'000'000LL);
}

TEST(ThreadProfile, CallBeyondCapacityWaitsForAFreeSlot) {
  constexpr int kThreads = 3;
  auto pools = testing::StartOrDie(testing::MakeConfig(
      {{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", kThreads}}}));
  ASSERT_NE(pools, nullptr);
  int queued_seen = 0;
  std::vector<Span> spans = RunSleeps(*pools, "t", kThreads + 1, 300, [&] {
    testing::WaitFor([&] { return pools->stats("t")->queued == 1; }, std::chrono::seconds(2));
    const PoolStats s = *pools->stats("t");
    queued_seen = s.queued;
    EXPECT_EQ(s.in_flight, kThreads);
  });
  ASSERT_EQ(spans.size(), static_cast<size_t>(kThreads + 1));
  EXPECT_EQ(queued_seen, 1);
  int64_t first_end = INT64_MAX;
  for (int i = 0; i < kThreads; ++i) first_end = std::min(first_end, spans[i].end_ns);
  // The extra call started only once one of the first ones had ended.
  EXPECT_GE(spans[kThreads].start_ns, first_end);
  EXPECT_EQ(pools->stats("t")->queue_high_water, 1);
}

TEST(ProcessProfile, OneCallPerWorkerAtATime) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"profile", "process"}, {"pool_size", 2}}}));
  ASSERT_NE(pools, nullptr);
  std::vector<Span> spans = RunSleeps(*pools, "p", 4, 200);
  ASSERT_EQ(spans.size(), 4u);
  // Group by worker: on each worker, calls never overlap.
  std::map<int, std::vector<Span>> by_pid;
  for (const Span& s : spans) by_pid[s.pid].push_back(s);
  EXPECT_EQ(by_pid.size(), 2u) << "both workers were used";
  for (auto& [pid, list] : by_pid) {
    for (size_t i = 1; i < list.size(); ++i) EXPECT_GE(list[i].start_ns, list[i - 1].end_ns) << "pid " << pid;
  }
  // Across the two workers, calls do overlap.
  EXPECT_LT(spans[1].start_ns, spans[0].end_ns);
}

}  // namespace
}  // namespace snakepit
