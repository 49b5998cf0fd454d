#include "support/rounds.h"

#include <algorithm>

namespace snakepit::bench {

nlohmann::json RoundsResult::ToJson() const {
  nlohmann::json j = median.ToJson();
  j["rounds_calls_per_s"] = calls_per_s;
  return j;
}

std::vector<RoundsResult> RunRounds(const std::vector<std::function<LoadResult()>>& points, int rounds,
                                    RoundOrder order) {
  std::vector<std::vector<LoadResult>> samples(points.size());
  for (int round = 0; round < rounds; ++round) {
    const bool backwards = order == RoundOrder::kAlternating && round % 2 == 1;
    for (std::size_t k = 0; k < points.size(); ++k) {
      const std::size_t i = backwards ? points.size() - 1 - k : k;
      samples[i].push_back(points[i]());
    }
  }
  std::vector<RoundsResult> out;
  for (std::vector<LoadResult>& s : samples) {
    RoundsResult r;
    r.rounds = s;
    for (const LoadResult& l : s) r.calls_per_s.push_back(l.calls_per_s);
    std::sort(s.begin(), s.end(),
              [](const LoadResult& a, const LoadResult& b) { return a.calls_per_s < b.calls_per_s; });
    r.median = s[s.size() / 2];
    out.push_back(std::move(r));
  }
  return out;
}

double CallsPerS(const LoadResult& r) { return r.calls_per_s; }

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

nlohmann::json PairedRatios::ToJson() const { return {{"rounds", per_round}, {"median", median}}; }

PairedRatios RatiosPerRound(const RoundsResult& of, const RoundsResult& base, const RoundMetric& metric) {
  PairedRatios out;
  const std::size_t n = std::min(of.rounds.size(), base.rounds.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double b = metric(base.rounds[i]);
    out.per_round.push_back(b > 0 ? metric(of.rounds[i]) / b : 0.0);
  }
  out.median = Median(out.per_round);
  return out;
}

}  // namespace snakepit::bench
