// The bounded latency histogram: percentiles within one bucket of the truth.
#include "common/latency_histogram.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

double Ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

TEST(LatencyHistogram, PercentilesAreWithinOneBucketOfTheTruth) {
  LatencyHistogram h;
  // 1..1000 ms, one call each: p50 = 500 ms, p95 = 950 ms, p99 = 990 ms.
  for (int ms = 1; ms <= 1000; ++ms) h.Record(absl::Milliseconds(ms));
  const LatencySummary s = h.Snapshot();
  EXPECT_EQ(s.count, 1000u);
  EXPECT_NEAR(Ms(s.p50), 500, 500 * 0.1);
  EXPECT_NEAR(Ms(s.p95), 950, 950 * 0.1);
  EXPECT_NEAR(Ms(s.p99), 990, 990 * 0.1);
  EXPECT_GE(s.p50, std::chrono::milliseconds(500));  // an upper bound, never below the truth
  EXPECT_EQ(s.max, std::chrono::milliseconds(1000));
  EXPECT_NEAR(Ms(s.sum), 500.5 * 1000, 1);
}

TEST(LatencyHistogram, PercentilesNeverExceedTheLargestDuration) {
  LatencyHistogram h;
  for (int i = 0; i < 10; ++i) h.Record(absl::Microseconds(1234));
  const LatencySummary s = h.Snapshot();
  EXPECT_EQ(s.p99, std::chrono::microseconds(1234));
  EXPECT_EQ(s.p50, std::chrono::microseconds(1234));
}

TEST(LatencyHistogram, CumulativeBucketsCountEveryCallOnce) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(10));  // under the first published bound (16 µs)
  h.Record(absl::Microseconds(16));  // exactly on it: counted there (le)
  h.Record(absl::Milliseconds(3));   // in the middle
  h.Record(absl::Seconds(1000));     // past the last published bound: only in +Inf
  const LatencySummary s = h.Snapshot();
  ASSERT_FALSE(s.buckets.empty());
  EXPECT_DOUBLE_EQ(s.buckets.front().le_seconds, 16e-6);
  EXPECT_EQ(s.buckets.front().count, 2u);
  for (std::size_t i = 1; i < s.buckets.size(); ++i) {
    EXPECT_GE(s.buckets[i].count, s.buckets[i - 1].count);
    EXPECT_DOUBLE_EQ(s.buckets[i].le_seconds, 2 * s.buckets[i - 1].le_seconds);
  }
  EXPECT_EQ(s.buckets.back().count, 3u);
  EXPECT_EQ(s.count, 4u);
}

TEST(LatencyHistogram, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i) h.Record(absl::Microseconds(100 + t));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.Snapshot().count, 40'000u);
}

TEST(LatencyHistogram, EmptyHasZeroes) {
  LatencyHistogram h;
  const LatencySummary s = h.Snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99.count(), 0);
}

}  // namespace
}  // namespace snakepit::internal
