#include "config/config_validate.h"

#include <cstddef>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/config_errors.h"
#include "config/config_rules.h"

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
    SNAKEPIT_RETURN_IF_ERROR(CheckNoNul(JoinPath(env, name), value));
  }
  return absl::OkStatus();
}

absl::Status CheckDurations(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(
      CheckDuration(JoinPath(path, "startup_timeout"), pool.startup_timeout, ZeroDuration::kRejected));
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "queue_timeout"), pool.queue_timeout, ZeroDuration::kRejected));
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "call_timeout"), pool.call_timeout, ZeroDuration::kRejected));
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "drain_timeout"), pool.drain_timeout, ZeroDuration::kAllowed));
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "kill_grace"), pool.kill_grace, ZeroDuration::kAllowed));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePool(const PoolConfig& pool, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(CheckPoolName(JoinPath(path, "name"), pool.name));
  if (pool.profile != Profile::kProcess && pool.profile != Profile::kThread) {
    return InvalidAt(JoinPath(path, "profile"), absl::StrCat("unknown profile value ", static_cast<int>(pool.profile)));
  }
  SNAKEPIT_RETURN_IF_ERROR(CheckCountOrDefault(JoinPath(path, "pool_size"), pool.pool_size, kPoolSizeRange));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckCountOrDefault(JoinPath(path, "threads_per_worker"), pool.threads_per_worker, kThreadsPerWorkerRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckProfileCombinations(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckStrings(pool, path));
  SNAKEPIT_RETURN_IF_ERROR(CheckPreload(JoinPath(path, "preload"), pool.preload));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "startup_batch_size"), pool.startup_batch_size, kStartupBatchSizeRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "max_queue"), pool.max_queue, kMaxQueueRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckDurations(pool, path));
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
  return CheckSocketDir("socket_dir", config.socket_dir);
}

}  // namespace snakepit::internal

namespace snakepit {

absl::Status Config::Validate() const { return internal::ValidateConfig(*this, internal::PathStyle::kPoolsList); }

}  // namespace snakepit
