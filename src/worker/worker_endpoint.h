// How the host reaches a worker: Unix socket or TCP, plaintext or TLS, and
// the token every RPC carries (docs/worker-protocol.md).
#ifndef SNAKEPIT_SRC_WORKER_WORKER_ENDPOINT_H_
#define SNAKEPIT_SRC_WORKER_WORKER_ENDPOINT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"
#include "worker/rpc_client.h"
#include "worker/worker_spec.h"

namespace snakepit::internal {

// For a TCP pool with TLS: checks that tcp.tls_cert, tcp.tls_key and
// tcp.tls_ca can be opened, and that the certificate and the CA file hold
// PEM certificates, so that a wrong path fails the start at once, before
// any worker runs. INVALID_ARGUMENT naming the pool, the key and the path:
// `pool 'p': tcp.tls_key: cannot read "/x/key.pem": No such file or
// directory`. OK for every other pool. The private key is opened, not read.
absl::Status CheckTlsFiles(const PoolConfig& pool);

// The endpoint of a worker started from `spec` that sent the readiness
// record `record` (docs/worker-protocol.md): its Unix socket, or the TCP
// address it reported ("listen"); `token`; and, with TLS, the roots read
// from tcp.tls_ca now. FAILED_PRECONDITION if the worker does not say that
// it requires the token or, for TLS, that it serves TLS (an older worker
// package would silently accept anyone); INVALID_ARGUMENT if tcp.tls_ca
// cannot be read; INTERNAL on a record without a TCP address.
absl::StatusOr<RpcEndpoint> WorkerEndpoint(const WorkerSpec& spec, const nlohmann::json& record, std::string token);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_WORKER_ENDPOINT_H_
