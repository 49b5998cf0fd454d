#include "config/tcp_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/config_errors.h"
#include "config/config_rules.h"
#include "config/json_fields.h"

namespace snakepit::internal {
namespace {

struct TcpField {
  std::string_view key;
  std::string TcpConfig::*member;
};

// Every key of a "tcp" object. docs/configuration.md documents each.
constexpr TcpField kTcpFields[] = {
    {"host", &TcpConfig::host},
    {"tls_cert", &TcpConfig::tls_cert},
    {"tls_key", &TcpConfig::tls_key},
    {"tls_ca", &TcpConfig::tls_ca},
    {"tls_server_name", &TcpConfig::tls_server_name},
};

constexpr std::string_view kAllowPlaintextKey = "allow_plaintext";

// Host names, IPv4 and IPv6 literals (with an optional "%zone").
bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
}

absl::Status CheckHost(std::string_view path, std::string_view host) {
  if (host.empty()) return InvalidAt(path, "must not be empty");
  for (char c : host) {
    if (!IsHostChar(c)) {
      return InvalidAt(path, absl::StrCat(Quote(host), " contains ", Quote(std::string(1, c)),
                                          "; expected a host name or an IP address (IPv6 without brackets)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopback(const std::string& host) {
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<TcpConfig> ParseTcpConfig(const std::string& path, const nlohmann::json& value) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  TcpConfig tcp;
  for (const auto& [key, item] : value.items()) {
    if (key == kAllowPlaintextKey) {
      SNAKEPIT_ASSIGN_OR_RETURN(tcp.allow_plaintext, GetBool(JoinPath(path, key), item));
      continue;
    }
    const TcpField* field = nullptr;
    for (const TcpField& candidate : kTcpFields) {
      if (candidate.key == key) field = &candidate;
    }
    if (field == nullptr) {
      std::vector<std::string_view> known;
      for (const TcpField& candidate : kTcpFields) known.push_back(candidate.key);
      known.push_back(kAllowPlaintextKey);
      return UnknownKeyError(JoinPath(path, key), key, known);
    }
    SNAKEPIT_ASSIGN_OR_RETURN(tcp.*field->member, GetString(JoinPath(path, key), item));
  }
  return tcp;
}

absl::Status ValidateTcp(const TcpConfig& tcp, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(CheckHost(JoinPath(path, "host"), tcp.host));
  for (const TcpField& field : kTcpFields) {
    SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(JoinPath(path, field.key), tcp.*field.member));
  }
  const bool cert = !tcp.tls_cert.empty();
  const bool key = !tcp.tls_key.empty();
  if (key && !cert) {
    return InvalidAt(JoinPath(path, "tls_cert"),
                     "required with tls_key: a worker serves TLS with a certificate and its private key");
  }
  if (cert && !key) {
    return InvalidAt(JoinPath(path, "tls_key"),
                     "required with tls_cert: a worker serves TLS with a certificate and its private key");
  }
  if (cert && tcp.tls_ca.empty()) {
    return InvalidAt(JoinPath(path, "tls_ca"),
                     "required with tls_cert: the CA certificate the host verifies the workers against "
                     "(for a self-signed certificate, the certificate itself)");
  }
  SNAKEPIT_RETURN_IF_ERROR(CheckHasBase(JoinPath(path, "tls_ca"), !tcp.tls_ca.empty(), cert, "tls_cert"));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckHasBase(JoinPath(path, "tls_server_name"), !tcp.tls_server_name.empty(), cert, "tls_cert"));
  if (!cert && !tcp.allow_plaintext && !IsLoopback(tcp.host)) {
    return InvalidAt(JoinPath(path, "host"),
                     absl::StrCat(Quote(tcp.host),
                                  " is not a loopback address, and without TLS the workers would take calls in "
                                  "plaintext from the network; configure tls_cert, tls_key and tls_ca, or set "
                                  "\"allow_plaintext\": true in ",
                                  std::string(path), " if that is meant"));
  }
  return absl::OkStatus();
}

}  // namespace snakepit::internal
