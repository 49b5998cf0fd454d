#include "support/rounds.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

double InverseP50(const LoadResult& r) { return r.latency.p50_us > 0 ? 1 / r.latency.p50_us : 0; }

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

nlohmann::json PairedRatios::ToJson() const {
  nlohmann::json rounds = nlohmann::json::array();
  for (double r : per_round) rounds.push_back(std::isnan(r) ? nlohmann::json() : nlohmann::json(r));
  return {{"rounds", rounds}, {"median", std::isnan(median) ? nlohmann::json() : nlohmann::json(median)}};
}

std::string PairedRatios::Text() const {
  std::string text;
  for (double r : per_round)
    absl::StrAppend(&text, text.empty() ? "" : " ", std::isnan(r) ? "-" : absl::StrFormat("%.2f", r));
  return text;
}

PairedRatios RatiosPerRound(const RoundsResult& of, const RoundsResult& base, const RoundMetric& metric) {
  PairedRatios out;
  std::vector<double> valid;
  const std::size_t n = std::min(of.rounds.size(), base.rounds.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double a = metric(of.rounds[i]), b = metric(base.rounds[i]);
    out.per_round.push_back(a > 0 && b > 0 ? a / b : std::nan(""));
    if (a > 0 && b > 0) valid.push_back(a / b);
  }
  out.median = valid.empty() ? std::nan("") : Median(valid);
  return out;
}

}  // namespace snakepit::bench
