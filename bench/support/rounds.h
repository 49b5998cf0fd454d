// RunRounds: measures several load points in rounds, one point after the
// other within each round. This machine is shared: a burst of someone
// else's work then spoils one sample of several points instead of every
// sample of one point, and the median round of each point sets it aside.
#ifndef SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_
#define SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_

#include <functional>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/load.h"

namespace snakepit::bench {

struct RoundsResult {
  LoadResult median;                // the round with the median calls/s (an odd count of rounds: a real one)
  std::vector<double> calls_per_s;  // every round's, in order

  // median.ToJson() plus "rounds_calls_per_s".
  nlohmann::json ToJson() const;
};

// Runs every function of `points` once per round, `rounds` rounds, and
// returns one result per point, in order.
std::vector<RoundsResult> RunRounds(const std::vector<std::function<LoadResult()>>& points, int rounds);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_ROUNDS_H_
