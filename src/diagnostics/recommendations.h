// The Inspector's rules: each turns measured figures of one pool into a
// recommendation, or stays quiet. docs/diagnostics.md lists them.
#ifndef SNAKEPIT_SRC_DIAGNOSTICS_RECOMMENDATIONS_H_
#define SNAKEPIT_SRC_DIAGNOSTICS_RECOMMENDATIONS_H_

#include <vector>

#include "snakepit/config.h"
#include "snakepit/inspector.h"

namespace snakepit::internal {

// `report` has its window figures, memory and worker reports filled in.
std::vector<Recommendation> Recommend(const PoolReport& report, const PoolConfig& config,
                                      const InspectorOptions& options);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_DIAGNOSTICS_RECOMMENDATIONS_H_
