#include "worker/worker_endpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"

namespace snakepit::internal {
namespace {

// A PEM file larger than this is not a certificate bundle.
constexpr std::size_t kMaxPemBytes = std::size_t{1} << 20;

absl::Status CannotRead(std::string_view key, const std::string& path, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("tcp.", std::string(key), ": cannot read \"", path, "\": ", std::string(why)));
}

absl::StatusOr<UniqueFd> OpenTlsFile(std::string_view key, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return CannotRead(key, path, std::generic_category().message(errno));
  return fd;
}

// The contents of the PEM certificate file `path`, named `key` in errors.
absl::StatusOr<std::string> ReadPemCertificates(std::string_view key, const std::string& path) {
  SNAKEPIT_ASSIGN_OR_RETURN(UniqueFd fd, OpenTlsFile(key, path));
  std::string text;
  char buffer[16 * 1024];
  while (text.size() <= kMaxPemBytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CannotRead(key, path, std::generic_category().message(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  if (text.size() > kMaxPemBytes) return CannotRead(key, path, "larger than 1 MiB");
  if (!absl::StrContains(text, "-----BEGIN CERTIFICATE-----")) {
    return CannotRead(key, path, "no PEM certificate in it (-----BEGIN CERTIFICATE-----)");
  }
  return text;
}

absl::Status CheckTcpFiles(const TcpConfig& tcp) {
  if (tcp.tls_cert.empty()) return absl::OkStatus();
  SNAKEPIT_RETURN_IF_ERROR(ReadPemCertificates("tls_cert", tcp.tls_cert).status());
  SNAKEPIT_RETURN_IF_ERROR(OpenTlsFile("tls_key", tcp.tls_key).status());
  return ReadPemCertificates("tls_ca", tcp.tls_ca).status();
}

// record[key] if it is `true`; false when absent or of another type.
bool RecordFlag(const nlohmann::json& record, const char* key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

absl::Status CheckTlsFiles(const PoolConfig& pool) {
  if (!pool.tcp) return absl::OkStatus();
  absl::Status status = CheckTcpFiles(*pool.tcp);
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat("pool '", pool.name, "': ", status.message()));
}

absl::StatusOr<RpcEndpoint> WorkerEndpoint(const WorkerSpec& spec, const nlohmann::json& record, std::string token) {
  if (!RecordFlag(record, "token_required")) {
    return absl::FailedPreconditionError(
        "the worker does not check the snakepit-token (is an older snakepit_worker package first on PYTHONPATH?)");
  }
  RpcEndpoint endpoint;
  endpoint.token = std::move(token);
  if (!spec.tcp) {
    endpoint.target = absl::StrCat("unix:", spec.socket_path);
    return endpoint;
  }
  const auto listen = record.find("listen");
  if (listen == record.end() || !listen->is_string() || listen->get_ref<const std::string&>().empty() ||
      absl::StartsWith(listen->get_ref<const std::string&>(), "unix:")) {
    return absl::InternalError("the readiness record has no TCP address (\"listen\")");
  }
  endpoint.target = listen->get<std::string>();
  if (spec.tcp->tls_cert.empty()) return endpoint;
  if (!RecordFlag(record, "tls")) {
    return absl::FailedPreconditionError("the worker does not serve TLS although tcp.tls_cert is set");
  }
  SNAKEPIT_ASSIGN_OR_RETURN(endpoint.tls_roots_pem, ReadPemCertificates("tls_ca", spec.tcp->tls_ca));
  endpoint.tls_server_name = spec.tcp->tls_server_name;
  return endpoint;
}

}  // namespace snakepit::internal
