// LatencyHistogram: a fixed-size, lock-free histogram of call durations.
//
// Buckets are logarithmic, kSubBuckets per power of two of microseconds, so
// any percentile read from it is within one bucket width (about 9%) of the
// true value, from 1 µs up to about 38 hours; longer durations land in the
// last bucket. Memory is fixed (kBuckets counters), whatever the traffic.
//
// Threading: Record() is wait-free (relaxed atomic adds) and may run on any
// thread; Snapshot() may run concurrently with it and then sees each counter
// at some moment during the call (figures may be off by the calls recorded
// meanwhile, never torn).
#ifndef SNAKEPIT_SRC_COMMON_LATENCY_HISTOGRAM_H_
#define SNAKEPIT_SRC_COMMON_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 8;  // per octave
  static constexpr int kOctaves = 37;    // 1 µs .. 2^37 µs
  static constexpr int kBuckets = kSubBuckets * kOctaves + 1;

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(absl::Duration duration);

  // Count, sum, max, percentiles and the cumulative counts at every power
  // of two of microseconds from 16 µs to 2^27 µs (about 134 s), which is
  // what the Prometheus exposition publishes.
  LatencySummary Snapshot() const;

  // Index of the bucket holding `micros`, and a bucket's upper bound.
  static int BucketOf(double micros);
  static double UpperBoundMicros(int bucket);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> sum_nanos_{0};
  std::atomic<std::uint64_t> max_nanos_{0};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_LATENCY_HISTOGRAM_H_
