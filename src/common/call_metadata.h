// The checks a call's metadata (CallOptions::metadata) passes at the API
// entry, and the trace id it may carry (docs/tracing.md).
#ifndef SNAKEPIT_SRC_COMMON_CALL_METADATA_H_
#define SNAKEPIT_SRC_COMMON_CALL_METADATA_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace snakepit::internal {

// Bounds on a call's metadata: it rides in every request, so it stays
// small (like HTTP headers, which servers commonly cap at 8-16 KiB).
inline constexpr std::size_t kMaxMetadataEntries = 64;
inline constexpr std::size_t kMaxMetadataKeyBytes = 128;
inline constexpr std::size_t kMaxMetadataValueBytes = 4096;
inline constexpr std::size_t kMaxMetadataBytes = 16 * 1024;  // keys and values together

// The W3C Trace Context key; its value must be a valid traceparent.
inline constexpr std::string_view kTraceparentKey = "traceparent";

// OK, or INVALID_ARGUMENT naming the offending key, when: there are more
// than kMaxMetadataEntries entries or kMaxMetadataBytes bytes; a key is
// empty, longer than kMaxMetadataKeyBytes, or not a lower-case HTTP header
// name (letters a-z, digits, '-', '_', '.': what gRPC and HTTP/2 carry as
// header names); a value is longer than kMaxMetadataValueBytes or holds a
// byte outside printable ASCII (0x20-0x7e), as an HTTP header value; a
// "traceparent" is not "00-<32 hex>-<16 hex>-<2 hex>" with non-zero ids.
absl::Status CheckCallMetadata(const std::map<std::string, std::string>& metadata);

// The trace id (32 lower-case hex digits) of the "traceparent" entry of
// metadata that passed CheckCallMetadata; "" when there is none.
std::string TraceIdOf(const std::map<std::string, std::string>& metadata);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_CALL_METADATA_H_
