#include "config/config_errors.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace snakepit::internal {

using nlohmann::json;

absl::Status InvalidAt(std::string_view path, std::string_view reason) {
  if (path.empty()) return absl::InvalidArgumentError(AsAbsl(reason));
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(path), ": ", AsAbsl(reason)));
}

std::string JoinPath(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return absl::StrCat(AsAbsl(prefix), ".", AsAbsl(key));
}

std::string IndexPath(std::string_view prefix, std::size_t index) {
  return absl::StrCat(AsAbsl(prefix), "[", index, "]");
}

std::string Quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string SanitizeForMessage(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view JsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    case json::value_t::binary:
      return "binary";
    case json::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

absl::Status TypeError(std::string_view path, std::string_view expected, const json& actual) {
  if (actual.is_number_float()) {
    // Show the value: "expected an integer, got 4.5" says more than "number".
    // dump() of a number cannot throw.
    return InvalidAt(path, absl::StrCat("expected ", AsAbsl(expected), ", got ", actual.dump()));
  }
  return InvalidAt(path, absl::StrCat("expected ", AsAbsl(expected), ", got ", AsAbsl(JsonTypeName(actual))));
}

}  // namespace snakepit::internal
