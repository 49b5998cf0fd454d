// The "tcp" pool key (TcpConfig): JSON conversion and the rules on its
// values, shared by the JSON loader and Config::Validate.
#ifndef SNAKEPIT_SRC_CONFIG_TCP_CONFIG_H_
#define SNAKEPIT_SRC_CONFIG_TCP_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

// "localhost", an IPv4 literal in 127.0.0.0/8, or an IPv6 loopback
// literal ("::1", "::ffff:127.0.0.1"). Any other name may resolve to an
// address on the network.
bool IsLoopback(const std::string& host);

// Converts the value of a "tcp" key at `path` ("pools[0].tcp"): an object
// whose keys are TcpConfig's fields, strings but for the boolean
// "allow_plaintext"; a key left out keeps its
// default. Fails with INVALID_ARGUMENT naming the key on an unknown key or
// a wrong JSON type. The rules on values are ValidateTcp's.
absl::StatusOr<TcpConfig> ParseTcpConfig(const std::string& path, const nlohmann::json& value);

// The rules on a TcpConfig at `path`: `host` is a non-empty host name or IP
// literal; tls_cert and tls_key come together; tls_ca is required with
// them, and tls_ca and tls_server_name mean nothing without them; no
// string holds NUL; a host that is not a loopback address needs TLS or
// allow_plaintext. Files are not opened here (see CheckTlsFiles).
absl::Status ValidateTcp(const TcpConfig& tcp, std::string_view path);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_TCP_CONFIG_H_
