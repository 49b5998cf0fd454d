// The native server's opt-in security: a per-worker token that every RPC
// must carry, and TLS.
#ifndef SNAKEPIT_PYTHON_NATIVE_SECURITY_H_
#define SNAKEPIT_PYTHON_NATIVE_SECURITY_H_

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace snakepit::native {

// The metadata key of the token.
inline constexpr char kTokenMetadataKey[] = "snakepit-token";

// Whether the RPC of `context` may proceed: always when `token` is empty,
// else only if it carries exactly one metadata kTokenMetadataKey, equal to
// `token`. The comparison takes the same time wherever the values differ.
bool Authorized(const grpc::ServerContextBase& context, std::string_view token);

// The status an RPC that is not Authorized ends with.
inline grpc::Status Unauthenticated() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong snakepit-token metadata");
}

// Plaintext credentials when both paths are empty; TLS with the PEM
// certificate chain and private key read from them when both are set.
// INVALID_ARGUMENT when only one is set, NOT_FOUND / PERMISSION_DENIED /
// INTERNAL (naming the file) when one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const std::string& cert_file,
                                                                           const std::string& key_file);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SECURITY_H_
