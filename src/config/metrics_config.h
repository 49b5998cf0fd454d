// The top-level "metrics" key (MetricsConfig): JSON conversion, the rules
// on its values, and the split of its "listen" address, shared by the JSON
// loader, Config::Validate and the endpoint (manager/metrics_endpoint.h).
#ifndef SNAKEPIT_SRC_CONFIG_METRICS_CONFIG_H_
#define SNAKEPIT_SRC_CONFIG_METRICS_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

inline constexpr std::string_view kMetricsKey = "metrics";

// A "listen" value taken apart: "127.0.0.1:9464" -> {"127.0.0.1", 9464};
// "[::1]:0" -> {"::1", 0}.
struct ListenAddress {
  std::string host;
  int port = 0;
};

// Splits `listen` ("host:port", IPv6 in brackets). INVALID_ARGUMENT at
// `path` when the host is empty or holds characters no host name or IP
// literal has, when the port is missing, not a number or above 65535.
absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view path, std::string_view listen);

// Converts the value of the "metrics" key: an object with the string
// "listen" (required) and the boolean "allow_plaintext". INVALID_ARGUMENT
// naming the key on an unknown key, a wrong JSON type or a missing
// "listen". The rules on values are ValidateMetrics'.
absl::StatusOr<MetricsConfig> ParseMetricsConfig(const nlohmann::json& value);

// The rules on a MetricsConfig at "metrics": `listen` parses, and a host
// that is not a loopback address needs allow_plaintext.
absl::Status ValidateMetrics(const MetricsConfig& metrics);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_METRICS_CONFIG_H_
