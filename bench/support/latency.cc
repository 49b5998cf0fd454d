#include "support/latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace snakepit::bench {

nlohmann::json LatencySummary::ToJson() const {
  return {{"count", count},   {"mean_us", mean_us}, {"min_us", min_us}, {"p50_us", p50_us},
          {"p90_us", p90_us}, {"p99_us", p99_us},   {"max_us", max_us}};
}

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
}

LatencySummary LatencyRecorder::Summarize() const {
  LatencySummary s;
  if (samples_.empty()) return s;
  std::vector<std::int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  const auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  const auto rank = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return us(sorted[std::clamp<std::size_t>(i, 1, sorted.size()) - 1]);
  };
  s.count = static_cast<std::int64_t>(sorted.size());
  s.mean_us = us(std::accumulate(sorted.begin(), sorted.end(), std::int64_t{0})) / static_cast<double>(s.count);
  s.min_us = us(sorted.front());
  s.max_us = us(sorted.back());
  s.p50_us = rank(0.50);
  s.p90_us = rank(0.90);
  s.p99_us = rank(0.99);
  return s;
}

}  // namespace snakepit::bench
