#include "native/security.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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
  const auto [first, last] = context.client_metadata().equal_range(kTokenMetadataKey);
  return first != last && std::next(first) == last && ConstantTimeEquals(token, first->second);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const std::string& cert_file,
                                                                           const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) return grpc::InsecureServerCredentials();
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  absl::StatusOr<std::string> cert = ReadFile(cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_file, "key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({.private_key = *std::move(key), .cert_chain = *std::move(cert)});
  return grpc::SslServerCredentials(options);
}

}  // namespace snakepit::native
