// The "autoscale" pool key (AutoscaleConfig): JSON conversion and the
// rules on its values, shared by the JSON loader and Config::Validate.
#ifndef SNAKEPIT_SRC_CONFIG_AUTOSCALE_CONFIG_H_
#define SNAKEPIT_SRC_CONFIG_AUTOSCALE_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

// Converts the value of an "autoscale" key at `path` ("pools[0].autoscale"):
// an object whose keys are AutoscaleConfig's fields (durations in seconds,
// "target" as "utilization" or "queue_depth"); a key left out keeps its
// default. Fails with INVALID_ARGUMENT naming the key on an unknown key, a
// wrong JSON type or a value out of range; the rules between values are
// ValidateAutoscale's.
absl::StatusOr<AutoscaleConfig> ParseAutoscaleConfig(const std::string& path, const nlohmann::json& value);

// The rules on an AutoscaleConfig at `path`: 1 <= min_workers <=
// max_workers <= 1024; the target's value in range, and only the target's
// own value set (target_queue_depth is refused with target "utilization",
// and the reverse, unless it keeps its default); durations in range. The
// rule between it and pool_size is the pool's (config_validate.cc).
absl::Status ValidateAutoscale(const AutoscaleConfig& autoscale, std::string_view path);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_AUTOSCALE_CONFIG_H_
