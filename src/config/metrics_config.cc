#include "config/metrics_config.h"

#include <array>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/config_errors.h"
#include "config/json_fields.h"
#include "config/tcp_config.h"

namespace snakepit::internal {
namespace {

constexpr std::string_view kListenKey = "listen";
constexpr std::string_view kAllowPlaintextKey = "allow_plaintext";

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
}

absl::Status ListenError(std::string_view path, std::string_view listen, std::string_view why) {
  return InvalidAt(path, absl::StrCat(Quote(listen), " ", std::string(why),
                                      "; expected \"host:port\", e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""));
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(std::string_view path, std::string_view listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return ListenError(path, listen, "has no port");
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return ListenError(path, listen, "has an IPv6 address without brackets");
  }
  if (host.empty()) return ListenError(path, listen, "has no host");
  for (char c : host) {
    if (!IsHostChar(c)) return ListenError(path, listen, absl::StrCat("contains ", Quote(std::string(1, c))));
  }
  ListenAddress address{.host = std::string(host)};
  if (!absl::SimpleAtoi(std::string(port_text), &address.port) || address.port < 0 || address.port > 65535) {
    return ListenError(path, listen, "has no port number between 0 and 65535");
  }
  return address;
}

absl::StatusOr<MetricsConfig> ParseMetricsConfig(const nlohmann::json& value) {
  const std::string path(kMetricsKey);
  if (!value.is_object()) return TypeError(path, "an object", value);
  MetricsConfig metrics;
  for (const auto& [key, item] : value.items()) {
    if (key == kListenKey) {
      SNAKEPIT_ASSIGN_OR_RETURN(metrics.listen, GetString(JoinPath(path, key), item));
    } else if (key == kAllowPlaintextKey) {
      SNAKEPIT_ASSIGN_OR_RETURN(metrics.allow_plaintext, GetBool(JoinPath(path, key), item));
    } else {
      constexpr std::array<std::string_view, 2> kKnown = {kListenKey, kAllowPlaintextKey};
      return UnknownKeyError(JoinPath(path, key), key, kKnown);
    }
  }
  if (!value.contains(kListenKey)) {
    return InvalidAt(JoinPath(path, kListenKey), "required: the address the endpoint listens on");
  }
  return metrics;
}

absl::Status ValidateMetrics(const MetricsConfig& metrics) {
  const std::string path = JoinPath(kMetricsKey, kListenKey);
  SNAKEPIT_ASSIGN_OR_RETURN(const ListenAddress address, ParseListenAddress(path, metrics.listen));
  if (!metrics.allow_plaintext && !IsLoopback(address.host)) {
    return InvalidAt(path, absl::StrCat(Quote(metrics.listen),
                                        " is not a loopback address: the endpoint is plain HTTP with no "
                                        "authentication, so anyone on the network could read it; listen on "
                                        "127.0.0.1, or set \"allow_plaintext\": true in metrics if that is meant"));
  }
  return absl::OkStatus();
}

}  // namespace snakepit::internal
