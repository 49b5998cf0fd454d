// RunRounds: measures several load points in rounds, one point after the
// other within each round. This machine is shared: a burst of someone
// else's work then spoils one sample of several points instead of every
// sample of one point, and the median round of each point sets it aside.
//
// Paired comparisons: within one round the points run back to back, so
// the ratio of two points of the same round compares them under the same
// machine conditions. PairedRatios gives each round's ratio and their
// median, which drift between rounds does not move the way a ratio of
// two medians (taken from different rounds) can.
#ifndef SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_
#define SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_

#include <functional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/load.h"

namespace snakepit::bench {

struct RoundsResult {
  LoadResult median;                // the round with the median calls/s (an odd count of rounds: a real one)
  std::vector<double> calls_per_s;  // every round's, in round order
  std::vector<LoadResult> rounds;   // every round's result, in round order

  // median.ToJson() plus "rounds_calls_per_s".
  nlohmann::json ToJson() const;
};

enum class RoundOrder {
  kSame,         // every round runs the points first to last
  kAlternating,  // even rounds first to last, odd rounds last to first, so
                 // that no point always runs right after the same neighbour
};

// Runs every function of `points` once per round, `rounds` rounds, and
// returns one result per point, in order.
std::vector<RoundsResult> RunRounds(const std::vector<std::function<LoadResult()>>& points, int rounds,
                                    RoundOrder order = RoundOrder::kSame);

// A figure of one round's result where more is better: calls/s, or the
// inverse of the p50 latency (which a window of a few slow calls gives
// more finely than their count).
using RoundMetric = std::function<double(const LoadResult&)>;
double CallsPerS(const LoadResult& r);
double InverseP50(const LoadResult& r);  // 1 / p50 in microseconds; 0 without calls

struct PairedRatios {
  // metric(of) / metric(base), round by round; NaN for a round where
  // either figure is 0 (no call completed in its window).
  std::vector<double> per_round;
  // The median of the rounds that have a ratio (mean of the middle two for
  // an even count); NaN when none has.
  double median = 0;

  nlohmann::json ToJson() const;  // {"rounds": [...], "median": x}; NaN as null
  std::string Text() const;       // "1.92 2.05 - 1.88": a ratio per round
};

// `of` against `base`, round by round. Both must come from the same
// RunRounds call (same count of rounds).
PairedRatios RatiosPerRound(const RoundsResult& of, const RoundsResult& base, const RoundMetric& metric = CallsPerS);

// The median of `values` (mean of the middle two for an even count; 0 when empty).
double Median(std::vector<double> values);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_
