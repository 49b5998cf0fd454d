// Latency samples and their summary (mean and percentiles, microseconds).
#ifndef SNAKEPIT_BENCH_SUPPORT_LATENCY_H_
#define SNAKEPIT_BENCH_SUPPORT_LATENCY_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "nlohmann/json.hpp"

namespace snakepit::bench {

struct LatencySummary {
  std::int64_t count = 0;
  double mean_us = 0, min_us = 0, p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;

  nlohmann::json ToJson() const;
};

// Not thread-safe: one recorder per thread, merged at the end.
class LatencyRecorder {
 public:
  void Add(std::chrono::nanoseconds sample) { samples_.push_back(sample.count()); }
  void Merge(const LatencyRecorder& other);
  std::size_t size() const { return samples_.size(); }
  // Percentiles by the nearest-rank method; all zero without samples.
  LatencySummary Summarize() const;

 private:
  std::vector<std::int64_t> samples_;  // nanoseconds
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_LATENCY_H_
