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

// The server's credentials for `listen` (unix:/path or host:port): TLS with
// the PEM certificate chain and private key read from `cert_file` and
// `key_file` when both are set, else plaintext. INVALID_ARGUMENT when only
// one is set, NOT_FOUND / PERMISSION_DENIED / INTERNAL (naming the file)
// when one cannot be read.
//
// With a `token`, the credentials check it on each RPC's metadata, before
// gRPC reads the request's body (an AuthMetadataProcessor, which runs in
// gRPC's auth filter): a client without it cannot make the worker receive
// a large message. gRPC runs a processor only on secure credentials, so
// plaintext listeners get local credentials, wire-compatible with a
// plaintext client: LOCAL_UDS for a Unix socket, LOCAL_TCP for a loopback
// address (it also refuses peers that are not local). Only plaintext TCP on
// a non-loopback address (allow_plaintext) stays without the early check,
// and `*early_check` (when given) says which case it is. Each RPC is
// checked again by Authorized() when it arrives.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const std::string& listen,
                                                                           const std::string& cert_file,
                                                                           const std::string& key_file,
                                                                           const std::string& token,
                                                                           bool* early_check = nullptr);

// Whether `listen` (host:port) names a loopback host: 127.0.0.0/8, [::1] or
// localhost.
bool IsLoopbackListen(std::string_view listen);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SECURITY_H_
