// What a remote pool's host presents to its workers (RemoteConfig): the
// TLS roots, the optional client certificate, the token, all read from
// their files once, when the pool starts.
#ifndef SNAKEPIT_SRC_WORKER_REMOTE_CREDENTIALS_H_
#define SNAKEPIT_SRC_WORKER_REMOTE_CREDENTIALS_H_

#include "absl/status/statusor.h"
#include "snakepit/config.h"
#include "worker/rpc_client.h"

namespace snakepit::internal {

// An RpcEndpoint for `pool` (which must have `remote` set) with everything
// but the target: the token (token_file, surrounding whitespace dropped),
// the roots (tls_ca), the name to verify (tls_server_name, else the
// target's host for a DNS target) and the client certificate and key.
// INVALID_ARGUMENT naming the pool, the key and the path when a file cannot
// be read, is empty, or holds no PEM certificate where one is expected:
// `pool 'p': remote.tls_ca: cannot read "/x/ca.pem": No such file or
// directory`.
absl::StatusOr<RpcEndpoint> RemoteCredentials(const PoolConfig& pool);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REMOTE_CREDENTIALS_H_
