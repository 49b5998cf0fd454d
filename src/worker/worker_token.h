// The per-worker token (docs/worker-protocol.md, "Authentication and TLS").
//
// The host draws a fresh random token for every worker process, hands it
// over in the environment (never argv, which every local user can read),
// and sends it with every RPC; the worker refuses RPCs without it.
#ifndef SNAKEPIT_SRC_WORKER_WORKER_TOKEN_H_
#define SNAKEPIT_SRC_WORKER_WORKER_TOKEN_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "config/reserved_env.h"  // kWorkerTokenEnv

namespace snakepit::internal {

// The gRPC metadata key every RPC carries the token in.
inline constexpr char kWorkerTokenMetadataKey[] = "snakepit-token";

// Random bytes in a token (256 bits).
inline constexpr std::size_t kWorkerTokenBytes = 32;

// A fresh token: kWorkerTokenBytes from the kernel's CSPRNG (getrandom(2),
// or /dev/urandom on a kernel without it), as lowercase hex. INTERNAL if
// neither source can be read. Thread-safe.
absl::StatusOr<std::string> NewWorkerToken();

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_WORKER_TOKEN_H_
