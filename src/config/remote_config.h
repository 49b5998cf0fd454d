// The "remote" pool key (RemoteConfig): JSON conversion, the rules on its
// values, and the refusal of the pool keys that only mean something for
// workers the library starts itself.
#ifndef SNAKEPIT_SRC_CONFIG_REMOTE_CONFIG_H_
#define SNAKEPIT_SRC_CONFIG_REMOTE_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

// Converts the value of a "remote" key at `path` ("pools[0].remote"): an
// object whose keys are RemoteConfig's fields (strings; the durations in
// seconds). INVALID_ARGUMENT naming the key on an unknown key or a wrong
// JSON type; the rules on values are ValidateRemote's.
absl::StatusOr<RemoteConfig> ParseRemoteConfig(const std::string& path, const nlohmann::json& value);

// The rules on a remote pool at `path` ("pools[0]"): its target parses
// (config/remote_target.h); tls_ca and token_file are set (TLS and the
// token are required off the host); the client certificate and key come
// together; durations are in range and eject_backoff_max >=
// eject_backoff_initial; and no key that configures a worker process is
// set (tcp, python, python_path, env, extra_args, preload, adapter,
// worker_transport, thread_safety_checks, rlimit_*, pool_size,
// fallback_to_process) nor a lifecycle policy that needs one (worker_ttl,
// worker_max_requests, worker_max_memory_mb, call_kill_timeout): each is
// refused naming the key and where to set it instead. Files are not
// opened here (CheckRemoteFiles, worker layer, does that at start).
absl::Status ValidateRemote(const PoolConfig& pool, std::string_view path);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_REMOTE_CONFIG_H_
