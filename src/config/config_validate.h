// The whole-config checks behind Config::Validate and Config::FromJson.
#ifndef SNAKEPIT_SRC_CONFIG_CONFIG_VALIDATE_H_
#define SNAKEPIT_SRC_CONFIG_CONFIG_VALIDATE_H_

#include <string_view>

#include "absl/status/status.h"
#include "snakepit/config.h"

namespace snakepit::internal {

// How error paths name a pool's keys.
enum class PathStyle {
  kPoolsList,  // "pools[1].pool_size"
  kLegacy,     // "pool_size": the single pool's keys sat at the JSON top level
};

// Checks one pool against every rule of config_rules.h. `path` prefixes the
// key paths in errors ("pools[1]", or "" for the legacy form). Fields left at
// their C++ "use the default" values (pool_size 0, threads_per_worker 0,
// empty python) pass.
absl::Status ValidatePool(const PoolConfig& pool, std::string_view path);

// Checks the pool list (non-empty, every pool, unique names) and socket_dir.
// Returns the first error found.
absl::Status ValidateConfig(const Config& config, PathStyle style);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_CONFIG_VALIDATE_H_
