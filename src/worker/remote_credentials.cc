#include "worker/remote_credentials.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/remote_target.h"

namespace snakepit::internal {
namespace {

// Secrets and certificates are small; anything larger is a wrong path.
constexpr std::streamsize kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadKeyFile(const PoolConfig& pool, std::string_view key, const std::string& path,
                                        std::string_view must_contain) {
  auto fail = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("pool '", pool.name, "': remote.", std::string(key),
                                                   ": cannot read \"", path, "\": ", std::string(why)));
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string contents = text.str();
  if (static_cast<std::streamsize>(contents.size()) > kMaxFileBytes) return fail("larger than 1 MiB");
  if (absl::StripAsciiWhitespace(contents).empty()) return fail("it is empty");
  if (!must_contain.empty() && contents.find(must_contain) == std::string::npos) {
    return fail(absl::StrCat("no PEM block in it (", std::string(must_contain), ")"));
  }
  return contents;
}

}  // namespace

absl::StatusOr<RpcEndpoint> RemoteCredentials(const PoolConfig& pool) {
  const RemoteConfig& remote = *pool.remote;
  RpcEndpoint endpoint;
  SNAKEPIT_ASSIGN_OR_RETURN(std::string token, ReadKeyFile(pool, "token_file", remote.token_file, ""));
  endpoint.token = std::string(absl::StripAsciiWhitespace(token));
  SNAKEPIT_ASSIGN_OR_RETURN(endpoint.tls_roots_pem,
                            ReadKeyFile(pool, "tls_ca", remote.tls_ca, "-----BEGIN CERTIFICATE-----"));
  if (!remote.tls_client_cert.empty()) {
    SNAKEPIT_ASSIGN_OR_RETURN(endpoint.tls_client_cert_pem, ReadKeyFile(pool, "tls_client_cert", remote.tls_client_cert,
                                                                        "-----BEGIN CERTIFICATE-----"));
    SNAKEPIT_ASSIGN_OR_RETURN(endpoint.tls_client_key_pem,
                              ReadKeyFile(pool, "tls_client_key", remote.tls_client_key, "-----BEGIN"));
  }
  endpoint.tls_server_name = remote.tls_server_name;
  if (endpoint.tls_server_name.empty()) {
    // The addresses are IPs: the certificate is checked against the name
    // the user wrote, as gRPC's own DNS resolver would do.
    absl::StatusOr<RemoteTarget> target = ParseRemoteTarget(remote.target);
    if (target.ok() && target->is_dns()) endpoint.tls_server_name = target->host;
  }
  return endpoint;
}

}  // namespace snakepit::internal
