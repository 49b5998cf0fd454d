// Parsing configuration text into JSON, with errors a person can act on.
#ifndef SNAKEPIT_SRC_CONFIG_JSON_TEXT_H_
#define SNAKEPIT_SRC_CONFIG_JSON_TEXT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

// Parses `text` as one JSON document. Stricter than nlohmann::json::parse:
// a key repeated within one object is an error (JSON parsers disagree on
// which occurrence wins), and so is nesting deeper than kMaxJsonDepth.
//
// Errors are INVALID_ARGUMENT:
//   "invalid JSON at byte 17: parse error at line 2, column 5: ..."
//   "pools[0].pool_size: duplicate key"
//   "invalid JSON: nested deeper than 128 levels"
// Invalid UTF-8 is a parse error. Echoed input bytes outside printable
// ASCII appear as \xNN. Never throws (a std::bad_alloc while building the
// document becomes RESOURCE_EXHAUSTED).
absl::StatusOr<nlohmann::json> ParseJsonText(std::string_view text);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_JSON_TEXT_H_
