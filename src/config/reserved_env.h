// Environment variables the library sets for its workers itself; a pool's
// `env` may not set them (config_validate.cc refuses it).
#ifndef SNAKEPIT_SRC_CONFIG_RESERVED_ENV_H_
#define SNAKEPIT_SRC_CONFIG_RESERVED_ENV_H_

namespace snakepit::internal {

// Carries the per-worker token to the worker (worker/worker_token.h).
inline constexpr char kWorkerTokenEnv[] = "SNAKEPIT_WORKER_TOKEN";

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_RESERVED_ENV_H_
