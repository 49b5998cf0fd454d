#include "common/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace snakepit::internal {
namespace {

// Published cumulative buckets: 2^4 .. 2^27 µs.
constexpr int kFirstPublishedOctave = 4;
constexpr int kLastPublishedOctave = 27;

}  // namespace

int LatencyHistogram::BucketOf(double micros) {
  if (!(micros > 1.0)) return 0;  // also NaN
  const int bucket = static_cast<int>(std::ceil(std::log2(micros) * kSubBuckets));
  return std::clamp(bucket, 0, kBuckets - 1);
}

double LatencyHistogram::UpperBoundMicros(int bucket) { return std::exp2(static_cast<double>(bucket) / kSubBuckets); }

void LatencyHistogram::Record(absl::Duration duration) {
  const std::int64_t nanos = std::max<std::int64_t>(0, absl::ToInt64Nanoseconds(duration));
  counts_[BucketOf(static_cast<double>(nanos) / 1e3)].fetch_add(1, std::memory_order_relaxed);
  total_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
  std::uint64_t seen = max_nanos_.load(std::memory_order_relaxed);
  while (static_cast<std::uint64_t>(nanos) > seen &&
         !max_nanos_.compare_exchange_weak(seen, static_cast<std::uint64_t>(nanos), std::memory_order_relaxed)) {
  }
}

LatencySummary LatencyHistogram::Snapshot() const {
  std::array<std::uint64_t, kBuckets> counts;
  std::uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    counts[i] = counts_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  LatencySummary summary;
  summary.count = total;
  summary.sum = std::chrono::nanoseconds(sum_nanos_.load(std::memory_order_relaxed));
  summary.max = std::chrono::nanoseconds(max_nanos_.load(std::memory_order_relaxed));
  // The smallest bucket bound below which at least q of the calls fall,
  // capped by the largest duration seen (the last bucket is open-ended).
  auto percentile = [&](double q) {
    if (total == 0) return std::chrono::nanoseconds(0);
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts[i];
      if (seen >= rank) {
        const auto bound = std::chrono::nanoseconds(static_cast<std::int64_t>(UpperBoundMicros(i) * 1e3));
        return std::min(bound, summary.max);
      }
    }
    return summary.max;
  };
  summary.p50 = percentile(0.50);
  summary.p95 = percentile(0.95);
  summary.p99 = percentile(0.99);
  std::uint64_t cumulative = 0;
  int next = 0;
  for (int octave = kFirstPublishedOctave; octave <= kLastPublishedOctave; ++octave) {
    const int last = octave * kSubBuckets;  // bucket whose upper bound is 2^octave µs
    for (; next <= last; ++next) cumulative += counts[next];
    summary.buckets.push_back({std::exp2(octave) / 1e6, cumulative});
  }
  return summary;
}

}  // namespace snakepit::internal
