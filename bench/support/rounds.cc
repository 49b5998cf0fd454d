#include "support/rounds.h"

#include <algorithm>

namespace snakepit::bench {

nlohmann::json RoundsResult::ToJson() const {
  nlohmann::json j = median.ToJson();
  j["rounds_calls_per_s"] = calls_per_s;
  return j;
}

std::vector<RoundsResult> RunRounds(const std::vector<std::function<LoadResult()>>& points, int rounds) {
  std::vector<std::vector<LoadResult>> samples(points.size());
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t i = 0; i < points.size(); ++i) samples[i].push_back(points[i]());
  }
  std::vector<RoundsResult> out;
  for (std::vector<LoadResult>& s : samples) {
    RoundsResult r;
    for (const LoadResult& l : s) r.calls_per_s.push_back(l.calls_per_s);
    std::sort(s.begin(), s.end(),
              [](const LoadResult& a, const LoadResult& b) { return a.calls_per_s < b.calls_per_s; });
    r.median = s[s.size() / 2];
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace snakepit::bench
