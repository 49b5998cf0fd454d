#include "config/config_validate.h"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/autoscale_config.h"
#include "config/config_errors.h"
#include "config/config_rules.h"
#include "config/metrics_config.h"
#include "config/remote_config.h"
#include "config/reserved_env.h"
#include "config/tcp_config.h"

namespace snakepit::internal {
namespace {

// pool_size and threads_per_worker: 0 selects the profile's default, any
// other value must lie in `range`.
absl::Status CheckCountOrDefault(std::string_view path, int value, IntRange range) {
  if (value == 0) return absl::OkStatus();
  if (value < 0) {
    return InvalidAt(path, absl::StrCat("must be >= ", range.min, " (or 0 for the profile's default)"));
  }
  return CheckIntRange(path, value, range);
}

// Rules that tie a field to the pool's profile.
absl::Status CheckProfileCombinations(const PoolConfig& pool, std::string_view path) {
  if (pool.profile != Profile::kProcess) return absl::OkStatus();
  if (pool.threads_per_worker > 1) {
    return InvalidAt(JoinPath(path, "threads_per_worker"),
                     "the process profile runs one call per worker; use profile \"thread\" "
                     "for more");
  }
  if (pool.fallback_to_process) {
    return InvalidAt(JoinPath(path, "fallback_to_process"), "only applies to profile \"thread\"");
  }
  return absl::OkStatus();
}

absl::Status CheckStrings(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(JoinPath(path, "python"), pool.python));
  SNAKEPIT_RETURN_IF_ERROR(CheckAdapter(JoinPath(path, "adapter"), pool.adapter));
  const std::string python_path = JoinPath(path, "python_path");
  for (std::size_t i = 0; i < pool.python_path.size(); ++i) {
    SNAKEPIT_RETURN_IF_ERROR(CheckPythonPathEntry(IndexPath(python_path, i), pool.python_path[i]));
  }
  const std::string extra_args = JoinPath(path, "extra_args");
  for (std::size_t i = 0; i < pool.extra_args.size(); ++i) {
    SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(IndexPath(extra_args, i), pool.extra_args[i]));
  }
  const std::string env = JoinPath(path, "env");
  for (const auto& [name, value] : pool.env) {
    SNAKEPIT_RETURN_IF_ERROR(CheckEnvName(env, name));
    if (name == kWorkerTokenEnv) {
      return InvalidAt(JoinPath(env, name), "is reserved: snakepit sets it to each worker's own random token");
    }
    SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(JoinPath(env, name), value));
  }
  return absl::OkStatus();
}

struct DurationField {
  std::string_view key;
  std::chrono::milliseconds PoolConfig::*member;
  ZeroDuration zero;
};

// Every duration of a pool, with the same zero rule as config_json.cc's
// kPoolFields.
constexpr DurationField kDurationFields[] = {
    {"startup_timeout", &PoolConfig::startup_timeout, ZeroDuration::kRejected},
    {"queue_timeout", &PoolConfig::queue_timeout, ZeroDuration::kRejected},
    {"call_timeout", &PoolConfig::call_timeout, ZeroDuration::kRejected},
    {"drain_timeout", &PoolConfig::drain_timeout, ZeroDuration::kAllowed},
    {"kill_grace", &PoolConfig::kill_grace, ZeroDuration::kAllowed},
    {"worker_ttl", &PoolConfig::worker_ttl, ZeroDuration::kAllowed},
    {"worker_ttl_jitter", &PoolConfig::worker_ttl_jitter, ZeroDuration::kAllowed},
    {"memory_check_interval", &PoolConfig::memory_check_interval, ZeroDuration::kRejected},
    {"health_check_interval", &PoolConfig::health_check_interval, ZeroDuration::kAllowed},
    {"health_check_timeout", &PoolConfig::health_check_timeout, ZeroDuration::kRejected},
    {"call_kill_timeout", &PoolConfig::call_kill_timeout, ZeroDuration::kAllowed},
    {"restart_backoff_initial", &PoolConfig::restart_backoff_initial, ZeroDuration::kRejected},
    {"restart_backoff_max", &PoolConfig::restart_backoff_max, ZeroDuration::kRejected},
};

absl::Status CheckDurations(const PoolConfig& pool, std::string_view path) {
  for (const DurationField& field : kDurationFields) {
    SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, field.key), pool.*field.member, field.zero));
  }
  return absl::OkStatus();
}

// The lifecycle counts and the rules between lifecycle values; durations
// are CheckDurations'.
absl::Status CheckLifecycle(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "worker_max_requests"), pool.worker_max_requests, kWorkerMaxRequestsRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "worker_max_requests_jitter"), pool.worker_max_requests_jitter,
                                         kWorkerMaxRequestsRange));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "worker_max_memory_mb"), pool.worker_max_memory_mb, kWorkerMaxMemoryMbRange));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "health_check_failures"), pool.health_check_failures, kHealthCheckFailuresRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "max_surge"), pool.max_surge, kMaxSurgeRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "degraded_after_failures"), pool.degraded_after_failures,
                                         kDegradedAfterFailuresRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckHasBase(JoinPath(path, "worker_ttl_jitter"), pool.worker_ttl_jitter.count() > 0,
                                        pool.worker_ttl.count() > 0, "worker_ttl"));
  SNAKEPIT_RETURN_IF_ERROR(CheckHasBase(JoinPath(path, "worker_max_requests_jitter"),
                                        pool.worker_max_requests_jitter > 0, pool.worker_max_requests > 0,
                                        "worker_max_requests"));
  return CheckBackoffOrder(JoinPath(path, "restart_backoff_max"), pool.restart_backoff_initial,
                           pool.restart_backoff_max);
}

// Autoscaling and affinity.
absl::Status CheckElastic(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "affinity_max_keys"), pool.affinity_max_keys, kAffinityMaxKeysRange));
  if (!pool.autoscale) return absl::OkStatus();
  const AutoscaleConfig& a = *pool.autoscale;
  SNAKEPIT_RETURN_IF_ERROR(ValidateAutoscale(a, JoinPath(path, "autoscale")));
  if (pool.pool_size != 0 && (pool.pool_size < a.min_workers || pool.pool_size > a.max_workers)) {
    return InvalidAt(JoinPath(path, "pool_size"),
                     absl::StrCat("must lie within autoscale's [min_workers, max_workers] = [", a.min_workers, ", ",
                                  a.max_workers, "], got ", pool.pool_size, " (leave it out to start at min_workers)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePool(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(CheckPoolName(JoinPath(path, "name"), pool.name));
  if (pool.profile != Profile::kProcess && pool.profile != Profile::kThread) {
    return InvalidAt(JoinPath(path, "profile"), absl::StrCat("unknown profile value ", static_cast<int>(pool.profile)));
  }
  SNAKEPIT_RETURN_IF_ERROR(CheckCountOrDefault(JoinPath(path, "pool_size"), pool.pool_size, kPoolSizeRange));
  if (WorkerTransportName(pool.worker_transport) == "unknown") {
    return InvalidAt(JoinPath(path, "worker_transport"),
                     absl::StrCat("unknown worker transport value ", static_cast<int>(pool.worker_transport)));
  }
  if (StartMethodName(pool.start_method) == "unknown") {
    return InvalidAt(JoinPath(path, "start_method"),
                     absl::StrCat("unknown start method value ", static_cast<int>(pool.start_method)));
  }
  if (pool.rlimit_as_mb < 0 || pool.rlimit_as_mb > kRlimitAsRange.max) {
    return InvalidAt(JoinPath(path, "rlimit_as_mb"), "must be 0 (no limit) or a number of MiB");
  }
  if (pool.rlimit_nofile != 0 && (pool.rlimit_nofile < 16 || pool.rlimit_nofile > kRlimitNofileRange.max)) {
    return InvalidAt(
        JoinPath(path, "rlimit_nofile"),
        absl::StrCat("must be 0 (no limit) or between 16 and ", kRlimitNofileRange.max, ", got ", pool.rlimit_nofile));
  }
  SNAKEPIT_RETURN_IF_ERROR(
      CheckCountOrDefault(JoinPath(path, "threads_per_worker"), pool.threads_per_worker, kThreadsPerWorkerRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckProfileCombinations(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckStrings(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckPreload(JoinPath(path, "preload"), pool.preload));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "startup_batch_size"), pool.startup_batch_size, kStartupBatchSizeRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "max_queue"), pool.max_queue, kMaxQueueRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "stream_buffer"), pool.stream_buffer, kStreamBufferRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "reply_poll_us"), pool.reply_poll_us, kReplyPollUsRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckDurations(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckLifecycle(pool, path));
  if (pool.tcp) SNAKEPIT_RETURN_IF_ERROR(ValidateTcp(*pool.tcp, JoinPath(path, "tcp")));
  if (pool.remote) SNAKEPIT_RETURN_IF_ERROR(ValidateRemote(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckElastic(pool, path));
  return CheckMaxMessageBytes(JoinPath(path, "max_message_bytes"), pool.max_message_bytes);
}

absl::Status ValidateConfig(const Config& config, PathStyle style) {
  if (config.pools.empty()) return InvalidAt("pools", "must list at least one pool");
  // name -> index of the first pool with it
  std::map<std::string_view, std::size_t> first_with_name;
  for (std::size_t i = 0; i < config.pools.size(); ++i) {
    const PoolConfig& pool = config.pools[i];
    const std::string path = style == PathStyle::kLegacy && config.pools.size() == 1 ? "" : IndexPath("pools", i);
    SNAKEPIT_RETURN_IF_ERROR(ValidatePool(pool, path));
    auto [it, inserted] = first_with_name.emplace(pool.name, i);
    if (!inserted) {
      return InvalidAt(JoinPath(path, "name"),
                       absl::StrCat("duplicate pool name ", Quote(pool.name), " (also pools[", it->second, "])"));
    }
  }
  if (config.metrics) SNAKEPIT_RETURN_IF_ERROR(ValidateMetrics(*config.metrics));
  return CheckSocketDir("socket_dir", config.socket_dir);
}

}  // namespace snakepit::internal

namespace snakepit {

absl::Status Config::Validate() const { return internal::ValidateConfig(*this, internal::PathStyle::kPoolsList); }

}  // namespace snakepit
