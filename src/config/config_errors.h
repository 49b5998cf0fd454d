// Building blocks of configuration error messages. Every configuration error
// is INVALID_ARGUMENT with the message "<key path>: <reason>", where the key
// path uses the JSON syntax: "pools[1].threads_per_worker", "socket_dir".
#ifndef SNAKEPIT_SRC_CONFIG_CONFIG_ERRORS_H_
#define SNAKEPIT_SRC_CONFIG_CONFIG_ERRORS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

// Debian's Abseil has its own absl::string_view, not an alias of
// std::string_view; this converts for absl::StrCat and absl::Status.
inline absl::string_view AsAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// INVALID_ARGUMENT "<path>: <reason>"; just "<reason>" when `path` is empty.
absl::Status InvalidAt(std::string_view path, std::string_view reason);

// "pools[0]" + "name" -> "pools[0].name"; "" + "name" -> "name".
std::string JoinPath(std::string_view prefix, std::string_view key);

// "extra_args" + 2 -> "extra_args[2]".
std::string IndexPath(std::string_view prefix, std::size_t index);

// `value` in double quotes, with '"', '\\' and control characters escaped,
// for quoting user input in messages.
std::string Quote(std::string_view value);

// `text` with every byte outside printable ASCII written as \xNN, for
// messages that may echo raw (possibly invalid UTF-8) input.
std::string SanitizeForMessage(std::string_view text);

// "null", "boolean", "number", "string", "array", "object", "binary" or
// "discarded".
std::string_view JsonTypeName(const nlohmann::json& value);

// "<path>: expected <expected>, got <type of actual>", e.g.
// "pools[1].pool_size: expected an integer, got string". A non-integral
// number is shown by value: "expected an integer, got 4.5".
absl::Status TypeError(std::string_view path, std::string_view expected, const nlohmann::json& actual);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_CONFIG_ERRORS_H_
