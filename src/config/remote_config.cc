#include "config/remote_config.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/config_errors.h"
#include "config/config_rules.h"
#include "config/json_fields.h"
#include "config/remote_target.h"

namespace snakepit::internal {
namespace {

struct StringField {
  std::string_view key;
  std::string RemoteConfig::*member;
};
struct DurationField {
  std::string_view key;
  std::chrono::milliseconds RemoteConfig::*member;
};

// Every key of a "remote" object. docs/configuration.md and docs/remote.md
// document each.
constexpr StringField kStringFields[] = {
    {"target", &RemoteConfig::target},
    {"tls_ca", &RemoteConfig::tls_ca},
    {"tls_server_name", &RemoteConfig::tls_server_name},
    {"tls_client_cert", &RemoteConfig::tls_client_cert},
    {"tls_client_key", &RemoteConfig::tls_client_key},
    {"token_file", &RemoteConfig::token_file},
};
constexpr DurationField kDurationFields[] = {
    {"resolve_interval", &RemoteConfig::resolve_interval},
    {"eject_backoff_initial", &RemoteConfig::eject_backoff_initial},
    {"eject_backoff_max", &RemoteConfig::eject_backoff_max},
};

// A pool key that configures a worker process or a policy that needs one,
// refused in a remote pool when `set`; `instead` says where it belongs.
struct Refusal {
  std::string_view key;
  bool set;
  std::string_view instead;
};

constexpr std::string_view kOnWorker =
    "it configures a worker process, and a remote pool's workers are started by "
    "the cluster: set it on the worker (python -m snakepit_worker serve, "
    "deploy/kubernetes/worker-deployment.yaml)";
constexpr std::string_view kNeedsProcess =
    "this lifecycle policy recycles a worker process, which a remote pool does not own; let the cluster do it "
    "(the Deployment's resources.limits.memory, a rollout restart) instead";

std::vector<Refusal> Refusals(const PoolConfig& pool) {
  const PoolConfig defaults;
  return {
      {"tcp", pool.tcp.has_value(), "a remote pool connects to remote.target with remote.tls_ca"},
      {"pool_size", pool.pool_size != 0,
       "a remote pool has one worker per address remote.target resolves to; scale the Deployment instead"},
      {"autoscale", pool.autoscale.has_value(),
       "a remote pool has one worker per address remote.target resolves to; scale the Deployment (its "
       "HorizontalPodAutoscaler, deploy/kubernetes/) instead"},
      {"python", !pool.python.empty(), kOnWorker},
      {"python_path", !pool.python_path.empty(), kOnWorker},
      {"env", !pool.env.empty(), kOnWorker},
      {"extra_args", !pool.extra_args.empty(), kOnWorker},
      {"preload", pool.preload != defaults.preload, kOnWorker},
      {"adapter", pool.adapter != defaults.adapter, kOnWorker},
      {"worker_transport", pool.worker_transport != defaults.worker_transport, kOnWorker},
      {"thread_safety_checks", pool.thread_safety_checks, kOnWorker},
      {"rlimit_as_mb", pool.rlimit_as_mb != 0, kOnWorker},
      {"rlimit_nofile", pool.rlimit_nofile != 0, kOnWorker},
      {"fallback_to_process", pool.fallback_to_process, kOnWorker},
      {"start_method", pool.start_method != defaults.start_method, kOnWorker},
      {"worker_ttl", pool.worker_ttl.count() != 0, kNeedsProcess},
      {"worker_max_requests", pool.worker_max_requests != 0, kNeedsProcess},
      {"worker_max_memory_mb", pool.worker_max_memory_mb != 0, kNeedsProcess},
  };
}

}  // namespace

absl::StatusOr<RemoteConfig> ParseRemoteConfig(const std::string& path, const nlohmann::json& value) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  RemoteConfig remote;
  for (const auto& [key, item] : value.items()) {
    const std::string key_path = JoinPath(path, key);
    bool known = false;
    for (const StringField& field : kStringFields) {
      if (field.key != key) continue;
      SNAKEPIT_ASSIGN_OR_RETURN(remote.*field.member, GetString(key_path, item));
      known = true;
    }
    for (const DurationField& field : kDurationFields) {
      if (field.key != key) continue;
      SNAKEPIT_ASSIGN_OR_RETURN(const double seconds, GetNumber(key_path, item));
      SNAKEPIT_ASSIGN_OR_RETURN(remote.*field.member, SecondsToDuration(key_path, seconds, ZeroDuration::kRejected));
      known = true;
    }
    if (!known) {
      std::vector<std::string_view> keys;
      for (const StringField& field : kStringFields) keys.push_back(field.key);
      for (const DurationField& field : kDurationFields) keys.push_back(field.key);
      return UnknownKeyError(key_path, key, keys);
    }
  }
  return remote;
}

absl::Status ValidateRemote(const PoolConfig& pool, std::string_view path) {
  const RemoteConfig& remote = *pool.remote;
  const std::string base = JoinPath(path, "remote");
  for (const Refusal& refusal : Refusals(pool)) {
    if (refusal.set) {
      return InvalidAt(JoinPath(path, refusal.key), absl::StrCat("not available in a remote pool (", base,
                                                                 " is set): ", std::string(refusal.instead)));
    }
  }
  for (const StringField& field : kStringFields) {
    SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(JoinPath(base, field.key), remote.*field.member));
  }
  if (absl::StatusOr<RemoteTarget> target = ParseRemoteTarget(remote.target); !target.ok()) {
    return InvalidAt(JoinPath(base, "target"), std::string(target.status().message()));
  }
  if (remote.tls_ca.empty()) {
    return InvalidAt(JoinPath(base, "tls_ca"),
                     "required: a remote pool's calls cross the network and are never sent in plaintext; give the "
                     "PEM file of the CA that signed the workers' certificates (serve --tls-cert)");
  }
  if (remote.token_file.empty()) {
    return InvalidAt(JoinPath(base, "token_file"),
                     "required: the file holding the token the workers require (their --token-file, e.g. the same "
                     "Kubernetes Secret)");
  }
  const bool cert = !remote.tls_client_cert.empty();
  const bool key = !remote.tls_client_key.empty();
  if (cert != key) {
    return InvalidAt(JoinPath(base, cert ? "tls_client_key" : "tls_client_cert"),
                     "tls_client_cert and tls_client_key come together (mutual TLS)");
  }
  for (const DurationField& field : kDurationFields) {
    SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(base, field.key), remote.*field.member, ZeroDuration::kRejected));
  }
  if (remote.eject_backoff_max < remote.eject_backoff_initial) {
    return InvalidAt(JoinPath(base, "eject_backoff_max"), "must be >= eject_backoff_initial");
  }
  return absl::OkStatus();
}

}  // namespace snakepit::internal
