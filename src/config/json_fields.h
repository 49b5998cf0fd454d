// Typed access to JSON values for the config loader. Each getter checks the
// JSON type and fails with TypeError ("<path>: expected <type>, got <type>")
// otherwise; none of them throws.
#ifndef SNAKEPIT_SRC_CONFIG_JSON_FIELDS_H_
#define SNAKEPIT_SRC_CONFIG_JSON_FIELDS_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

absl::StatusOr<std::string> GetString(std::string_view path, const nlohmann::json& value);
absl::StatusOr<bool> GetBool(std::string_view path, const nlohmann::json& value);

// Any JSON number, as a double.
absl::StatusOr<double> GetNumber(std::string_view path, const nlohmann::json& value);

// A JSON number with an integral value (4 and 4.0 are accepted, 4.5 is
// not). Values beyond the int64 range saturate to its bounds, so that a
// later range check reports them.
absl::StatusOr<std::int64_t> GetInteger(std::string_view path, const nlohmann::json& value);

// An array of strings; element errors name the index ("<path>[2]").
absl::StatusOr<std::vector<std::string>> GetStringArray(std::string_view path, const nlohmann::json& value);

// An object whose values are strings; value errors name the key
// ("<path>.KEY").
absl::StatusOr<std::map<std::string, std::string>> GetStringMap(std::string_view path, const nlohmann::json& value);

// Levenshtein distance between two byte strings.
int EditDistance(std::string_view a, std::string_view b);

// "<path>: unknown key", plus ` (did you mean "x"?)` when one of `known` is
// within edit distance 2 of `key` (the closest; the first of equals).
// `path` is the full path of the unknown key.
absl::Status UnknownKeyError(std::string_view path, std::string_view key, std::span<const std::string_view> known);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_JSON_FIELDS_H_
