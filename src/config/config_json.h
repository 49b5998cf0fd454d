// JSON -> Config conversion: keys and JSON types. The rules on values
// (ranges, names, combinations) are ValidateConfig's (config_validate.h),
// which Config::FromJson applies to the result.
#ifndef SNAKEPIT_SRC_CONFIG_CONFIG_JSON_H_
#define SNAKEPIT_SRC_CONFIG_CONFIG_JSON_H_

#include "absl/status/statusor.h"
#include "config/config_validate.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

struct ParsedConfig {
  Config config;
  // How the document named its pool(s), for the key paths of later errors:
  // kLegacy when the pool keys were at the top level.
  PathStyle path_style = PathStyle::kPoolsList;
};

// Converts a JSON document (see docs/configuration.md) to a Config:
//  - {"pools": [...], "socket_dir": "...", "metrics": {...}}: one
//    PoolConfig per entry, each
//    with a required "name";
//  - otherwise (legacy form, including {}): the top-level keys other than
//    "socket_dir" and "metrics" describe one pool, named "default" unless it has a "name".
// Fails with INVALID_ARGUMENT "<key path>: <reason>" on an unknown key
// (suggesting a close known one), a wrong JSON type, a missing name, or a
// value that the C++ field cannot hold (integers and durations are
// range-checked while converting, with the shared rules). Never throws,
// except std::bad_alloc.
absl::StatusOr<ParsedConfig> ParseConfigJson(const nlohmann::json& json);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_CONFIG_JSON_H_
