#include "common/call_metadata.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'; }

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool AllZero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

// W3C Trace Context, version 00: "00-" 32 hex "-" 16 hex "-" 2 hex, lower
// case, neither id all zeros.
bool IsTraceparent(std::string_view value) {
  if (value.size() != 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  const std::string_view version = value.substr(0, 2), trace = value.substr(3, 32), parent = value.substr(36, 16),
                         flags = value.substr(53, 2);
  return version == "00" && IsLowerHex(trace) && IsLowerHex(parent) && IsLowerHex(flags) && !AllZero(trace) &&
         !AllZero(parent);
}

absl::Status Bad(std::string_view key, std::string_view why) {
  // (Debian's Abseil keeps absl::string_view distinct from std::string_view.)
  return absl::InvalidArgumentError(absl::StrCat(
      "call metadata \"", absl::CHexEscape(absl::string_view(key.data(), key.size())), "\": ", std::string(why)));
}

absl::Status CheckEntry(const std::string& key, const std::string& value) {
  if (key.empty()) return absl::InvalidArgumentError("call metadata: a key is empty");
  if (key.size() > kMaxMetadataKeyBytes) {
    return Bad(key.substr(0, 32), absl::StrCat("key of ", key.size(), " bytes; the limit is ", kMaxMetadataKeyBytes));
  }
  if (!std::all_of(key.begin(), key.end(), IsKeyChar)) {
    return Bad(key, "keys are lower-case HTTP header names: letters a-z, digits, '-', '_' and '.'");
  }
  if (value.size() > kMaxMetadataValueBytes) {
    return Bad(key, absl::StrCat("value of ", value.size(), " bytes; the limit is ", kMaxMetadataValueBytes));
  }
  if (!std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    return Bad(key, "values are printable ASCII, as HTTP header values (encode anything else, e.g. base64)");
  }
  if (key == kTraceparentKey && !IsTraceparent(value)) {
    return Bad(key, absl::StrCat("\"", value,
                                 "\" is not a W3C traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex "
                                 "flags>, lower case, ids not all zeros"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCallMetadata(const std::map<std::string, std::string>& metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("call metadata: ", metadata.size(), " entries; the limit is ", kMaxMetadataEntries));
  }
  std::size_t bytes = 0;
  for (const auto& [key, value] : metadata) {
    if (absl::Status status = CheckEntry(key, value); !status.ok()) return status;
    bytes += key.size() + value.size();
  }
  if (bytes > kMaxMetadataBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("call metadata: ", bytes, " bytes of keys and values; the limit is ", kMaxMetadataBytes));
  }
  return absl::OkStatus();
}

std::string TraceIdOf(const std::map<std::string, std::string>& metadata) {
  const auto it = metadata.find(std::string(kTraceparentKey));
  if (it == metadata.end() || it->second.size() < 35) return "";
  return it->second.substr(3, 32);
}

}  // namespace snakepit::internal
