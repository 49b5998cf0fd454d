#include "native/security.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace snakepit::native {
namespace {

// Visits every byte of `expected` whatever `given` holds, so that the time
// taken does not tell how much of a guess was right.
bool ConstantTimeEquals(std::string_view expected, grpc::string_ref given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given.data()[i] : '\0';
    diff |= static_cast<unsigned char>(expected[i] ^ g);
  }
  return diff == 0;
}

// Whether the metadata holds exactly one kTokenMetadataKey entry, equal to
// `token` (compared in constant time).
template <typename Multimap>
bool OneEqualToken(const Multimap& metadata, std::string_view token) {
  const auto [first, last] = metadata.equal_range(kTokenMetadataKey);
  return first != last && std::next(first) == last && ConstantTimeEquals(token, first->second);
}

// grpc.health.v1 (gRPC's default health service, enabled by
// WorkerServer): probes carry no token, and the answer tells only the state.
template <typename Multimap>
bool IsHealthCheck(const Multimap& metadata) {
  const auto path = metadata.find(":path");
  return path != metadata.end() &&
         std::string_view(path->second.data(), path->second.size()).starts_with("/grpc.health.v1.Health/");
}

// Writes one line to stderr (which the host drains into its log) at most
// every 10 s, with how many RPCs were refused since the last line. The
// processor does not know the peer's address (gRPC gives it none), so the
// line is per worker, not per peer. Thread-safe, lock-free.
class RefusalLog {
 public:
  void Refused() {
    refused_.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = absl::GetCurrentTimeNanos();
    std::int64_t last = last_line_ns_.load(std::memory_order_relaxed);
    if (now - last < absl::ToInt64Nanoseconds(absl::Seconds(10))) return;
    if (!last_line_ns_.compare_exchange_strong(last, now)) return;  // another thread writes it
    const std::int64_t count = refused_.exchange(0);
    const std::string line = absl::StrCat("snakepit_worker native: refused ", count, " RPC(s) with a missing or wrong ",
                                          kTokenMetadataKey, " (at most one such line every 10 s)\n");
    [[maybe_unused]] ssize_t written = ::write(2, line.data(), line.size());
  }

 private:
  std::atomic<std::int64_t> refused_{0};
  std::atomic<std::int64_t> last_line_ns_{0};
};

// The early token check (see ServerCredentials).
class TokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenProcessor(std::string token) : token_(std::move(token)) {}

  // Cheap and non-blocking: gRPC runs it inline in its auth filter.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*, OutputMetadata*, OutputMetadata*) override {
    if (OneEqualToken(metadata, token_) || IsHealthCheck(metadata)) return grpc::Status::OK;
    log_.Refused();
    return Unauthenticated();
  }

 private:
  const std::string token_;
  RefusalLog log_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string text = absl::StrCat("cannot read the TLS ", what, " file ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(text);
    if (error == EACCES) return absl::PermissionDeniedError(text);
    return absl::InternalError(text);
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

bool Authorized(const grpc::ServerContextBase& context, std::string_view token) {
  if (token.empty()) return true;
  // Exactly one entry: a second one, even an equal one, is refused, as the
  // grpcio transport (auth.TokenInterceptor) refuses it.
  return OneEqualToken(context.client_metadata(), token);
}

bool IsLoopbackListen(std::string_view listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = listen.substr(0, colon);
  return host.starts_with("127.") || host == "[::1]" || host == "localhost";
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const std::string& listen,
                                                                           const std::string& cert_file,
                                                                           const std::string& key_file,
                                                                           const std::string& token,
                                                                           bool* early_check) {
  if (early_check != nullptr) *early_check = false;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (cert_file.empty() && key_file.empty()) {
    if (token.empty()) return grpc::InsecureServerCredentials();
    if (absl::StartsWith(listen, "unix:")) {
      credentials = grpc::experimental::LocalServerCredentials(UDS);
    } else if (IsLoopbackListen(listen)) {
      credentials = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
    } else {
      return grpc::InsecureServerCredentials();  // the check waits for the body (see security.h)
    }
    credentials->SetAuthMetadataProcessor(std::make_shared<TokenProcessor>(token));
    if (early_check != nullptr) *early_check = true;
    return credentials;
  }
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  absl::StatusOr<std::string> cert = ReadFile(cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_file, "key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({.private_key = *std::move(key), .cert_chain = *std::move(cert)});
  credentials = grpc::SslServerCredentials(options);
  if (!token.empty()) {
    credentials->SetAuthMetadataProcessor(std::make_shared<TokenProcessor>(token));
    if (early_check != nullptr) *early_check = true;
  }
  return credentials;
}

}  // namespace snakepit::native
