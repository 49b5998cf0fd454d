#include "config/config_json.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/autoscale_config.h"
#include "config/config_errors.h"
#include "config/config_rules.h"
#include "config/json_fields.h"
#include "config/metrics_config.h"
#include "config/remote_config.h"
#include "config/tcp_config.h"

namespace snakepit::internal {
namespace {

using nlohmann::json;

// Reads one JSON value into one PoolConfig field. `path` is the value's key
// path.
using FieldParser = absl::Status (*)(const std::string& path, const json& value, PoolConfig& pool);

template <std::string PoolConfig::*kMember>
absl::Status ParseStringField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.*kMember, GetString(path, value));
  return absl::OkStatus();
}

template <std::vector<std::string> PoolConfig::*kMember>
absl::Status ParseStringsField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.*kMember, GetStringArray(path, value));
  return absl::OkStatus();
}

template <bool PoolConfig::*kMember>
absl::Status ParseBoolField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.*kMember, GetBool(path, value));
  return absl::OkStatus();
}

// Integers are range-checked here, before narrowing to int; in JSON the
// C++ "0 means default" convention does not apply, so the ranges are the
// explicit ones.
template <int PoolConfig::*kMember, const IntRange& kRange>
absl::Status ParseIntField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::int64_t number, GetInteger(path, value));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(path, number, kRange));
  pool.*kMember = static_cast<int>(number);
  return absl::OkStatus();
}

template <std::int64_t PoolConfig::*kMember, const IntRange& kRange>
absl::Status ParseInt64Field(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::int64_t number, GetInteger(path, value));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(path, number, kRange));
  pool.*kMember = number;
  return absl::OkStatus();
}

template <std::chrono::milliseconds PoolConfig::*kMember, ZeroDuration kZero>
absl::Status ParseSecondsField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const double seconds, GetNumber(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(pool.*kMember, SecondsToDuration(path, seconds, kZero));
  return absl::OkStatus();
}

absl::Status ParseProfileField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string name, GetString(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(pool.profile, ParseProfile(path, name));
  return absl::OkStatus();
}

absl::Status ParseWorkerTransportField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string name, GetString(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(pool.worker_transport, ParseWorkerTransport(path, name));
  return absl::OkStatus();
}

absl::Status ParseStartMethodField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string name, GetString(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(pool.start_method, ParseStartMethod(path, name));
  return absl::OkStatus();
}

// In C++ an empty python means "the default"; in JSON, leave the key out.
absl::Status ParsePythonField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.python, GetString(path, value));
  if (pool.python.empty()) {
    return InvalidAt(path, "must not be empty (leave the key out for the default)");
  }
  return absl::OkStatus();
}

absl::Status ParseEnvField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.env, GetStringMap(path, value));
  return absl::OkStatus();
}

// Checked before the copy: copying JSON recurses, so depth must be bounded
// first (a document from ParseJsonText already is; one built in C++ may not).
absl::Status ParsePreloadField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_RETURN_IF_ERROR(CheckPreload(path, value));
  pool.preload = value;
  return absl::OkStatus();
}

absl::Status ParseMaxMessageField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(const double mib, GetNumber(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(pool.max_message_bytes, MiBToBytes(path, mib));
  return absl::OkStatus();
}

absl::Status ParseTcpField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.tcp, ParseTcpConfig(path, value));
  return absl::OkStatus();
}

absl::Status ParseRemoteField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.remote, ParseRemoteConfig(path, value));
  return absl::OkStatus();
}

absl::Status ParseAutoscaleField(const std::string& path, const json& value, PoolConfig& pool) {
  SNAKEPIT_ASSIGN_OR_RETURN(pool.autoscale, ParseAutoscaleConfig(path, value));
  return absl::OkStatus();
}

struct PoolField {
  std::string_view key;
  FieldParser parse;
};

// Every key a pool object may have. docs/configuration.md documents each.
constexpr PoolField kPoolFields[] = {
    {"name", &ParseStringField<&PoolConfig::name>},
    {"profile", &ParseProfileField},
    {"pool_size", &ParseIntField<&PoolConfig::pool_size, kPoolSizeRange>},
    {"threads_per_worker", &ParseIntField<&PoolConfig::threads_per_worker, kThreadsPerWorkerRange>},
    {"python", &ParsePythonField},
    {"worker_transport", &ParseWorkerTransportField},
    {"start_method", &ParseStartMethodField},
    {"adapter", &ParseStringField<&PoolConfig::adapter>},
    {"python_path", &ParseStringsField<&PoolConfig::python_path>},
    {"extra_args", &ParseStringsField<&PoolConfig::extra_args>},
    {"env", &ParseEnvField},
    {"preload", &ParsePreloadField},
    {"startup_batch_size", &ParseIntField<&PoolConfig::startup_batch_size, kStartupBatchSizeRange>},
    {"startup_timeout", &ParseSecondsField<&PoolConfig::startup_timeout, ZeroDuration::kRejected>},
    {"max_queue", &ParseIntField<&PoolConfig::max_queue, kMaxQueueRange>},
    {"queue_timeout", &ParseSecondsField<&PoolConfig::queue_timeout, ZeroDuration::kRejected>},
    {"call_timeout", &ParseSecondsField<&PoolConfig::call_timeout, ZeroDuration::kRejected>},
    {"stream_buffer", &ParseIntField<&PoolConfig::stream_buffer, kStreamBufferRange>},
    {"reply_poll_us", &ParseIntField<&PoolConfig::reply_poll_us, kReplyPollUsRange>},
    {"fallback_to_process", &ParseBoolField<&PoolConfig::fallback_to_process>},
    {"thread_safety_checks", &ParseBoolField<&PoolConfig::thread_safety_checks>},
    {"rlimit_as_mb", &ParseInt64Field<&PoolConfig::rlimit_as_mb, kRlimitAsRange>},
    {"rlimit_nofile", &ParseIntField<&PoolConfig::rlimit_nofile, kRlimitNofileRange>},
    {"max_message_mb", &ParseMaxMessageField},
    {"tcp", &ParseTcpField},
    {"remote", &ParseRemoteField},
    {"drain_timeout", &ParseSecondsField<&PoolConfig::drain_timeout, ZeroDuration::kAllowed>},
    {"kill_grace", &ParseSecondsField<&PoolConfig::kill_grace, ZeroDuration::kAllowed>},
    // Lifecycle (docs/lifecycle.md).
    {"worker_ttl", &ParseSecondsField<&PoolConfig::worker_ttl, ZeroDuration::kAllowed>},
    {"worker_ttl_jitter", &ParseSecondsField<&PoolConfig::worker_ttl_jitter, ZeroDuration::kAllowed>},
    {"worker_max_requests", &ParseInt64Field<&PoolConfig::worker_max_requests, kWorkerMaxRequestsRange>},
    {"worker_max_requests_jitter", &ParseInt64Field<&PoolConfig::worker_max_requests_jitter, kWorkerMaxRequestsRange>},
    {"worker_max_memory_mb", &ParseInt64Field<&PoolConfig::worker_max_memory_mb, kWorkerMaxMemoryMbRange>},
    {"memory_check_interval", &ParseSecondsField<&PoolConfig::memory_check_interval, ZeroDuration::kRejected>},
    {"health_check_interval", &ParseSecondsField<&PoolConfig::health_check_interval, ZeroDuration::kAllowed>},
    {"health_check_timeout", &ParseSecondsField<&PoolConfig::health_check_timeout, ZeroDuration::kRejected>},
    {"health_check_failures", &ParseIntField<&PoolConfig::health_check_failures, kHealthCheckFailuresRange>},
    {"call_kill_timeout", &ParseSecondsField<&PoolConfig::call_kill_timeout, ZeroDuration::kAllowed>},
    {"max_surge", &ParseIntField<&PoolConfig::max_surge, kMaxSurgeRange>},
    {"restart_backoff_initial", &ParseSecondsField<&PoolConfig::restart_backoff_initial, ZeroDuration::kRejected>},
    {"restart_backoff_max", &ParseSecondsField<&PoolConfig::restart_backoff_max, ZeroDuration::kRejected>},
    {"degraded_after_failures", &ParseIntField<&PoolConfig::degraded_after_failures, kDegradedAfterFailuresRange>},
    // Elastic pools (docs/elastic.md).
    {"autoscale", &ParseAutoscaleField},
    {"affinity_max_keys", &ParseIntField<&PoolConfig::affinity_max_keys, kAffinityMaxKeysRange>},
};

constexpr std::string_view kPoolsKey = "pools";
constexpr std::string_view kSocketDirKey = "socket_dir";

const PoolField* FindPoolField(std::string_view key) {
  for (const PoolField& field : kPoolFields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

std::vector<std::string_view> PoolKeys() {
  std::vector<std::string_view> keys;
  for (const PoolField& field : kPoolFields) keys.push_back(field.key);
  return keys;
}

enum class PoolSite {
  kListEntry,  // an element of "pools": "name" is required
  kTopLevel,   // the legacy form: the document itself, which may also hold
               // the top-level key "socket_dir"
};

absl::StatusOr<PoolConfig> ParsePool(const json& object, const std::string& path, PoolSite site) {
  if (!object.is_object()) return TypeError(path, "an object", object);
  PoolConfig pool;
  for (const auto& [key, value] : object.items()) {
    if (site == PoolSite::kTopLevel && (key == kSocketDirKey || key == kMetricsKey)) continue;
    const std::string key_path = JoinPath(path, key);
    const PoolField* field = FindPoolField(key);
    if (field == nullptr) {
      std::vector<std::string_view> known = PoolKeys();
      if (site == PoolSite::kTopLevel) {
        known.push_back(kPoolsKey);
        known.push_back(kSocketDirKey);
        known.push_back(kMetricsKey);
      }
      return UnknownKeyError(key_path, key, known);
    }
    SNAKEPIT_RETURN_IF_ERROR(field->parse(key_path, value, pool));
  }
  if (site == PoolSite::kListEntry && !object.contains("name")) {
    return InvalidAt(JoinPath(path, "name"), "required in every entry of \"pools\"");
  }
  return pool;
}

absl::StatusOr<std::vector<PoolConfig>> ParsePoolList(const json& list) {
  const std::string path(kPoolsKey);
  if (!list.is_array()) return TypeError(path, "an array of pool objects", list);
  if (list.empty()) return InvalidAt(path, "must list at least one pool");
  std::vector<PoolConfig> pools;
  pools.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    SNAKEPIT_ASSIGN_OR_RETURN(PoolConfig pool, ParsePool(list[i], IndexPath(path, i), PoolSite::kListEntry));
    pools.push_back(std::move(pool));
  }
  return pools;
}

}  // namespace

absl::StatusOr<ParsedConfig> ParseConfigJson(const json& document) {
  if (!document.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object at the top level, got ", AsAbsl(JsonTypeName(document))));
  }
  ParsedConfig parsed;
  if (auto it = document.find(kSocketDirKey); it != document.end()) {
    SNAKEPIT_ASSIGN_OR_RETURN(parsed.config.socket_dir, GetString(std::string(kSocketDirKey), *it));
  }
  if (auto it = document.find(kMetricsKey); it != document.end()) {
    SNAKEPIT_ASSIGN_OR_RETURN(parsed.config.metrics, ParseMetricsConfig(*it));
  }
  const auto pools = document.find(kPoolsKey);
  if (pools == document.end()) {
    SNAKEPIT_ASSIGN_OR_RETURN(PoolConfig pool, ParsePool(document, "", PoolSite::kTopLevel));
    parsed.config.pools.push_back(std::move(pool));
    parsed.path_style = PathStyle::kLegacy;
    return parsed;
  }
  for (const auto& [key, value] : document.items()) {
    if (key == kPoolsKey || key == kSocketDirKey || key == kMetricsKey) continue;
    if (FindPoolField(key) != nullptr) {
      return InvalidAt(key,
                       "pool keys go inside the entries of \"pools\" when \"pools\" is "
                       "given");
    }
    constexpr std::array<std::string_view, 3> kTopLevelKeys = {kPoolsKey, kSocketDirKey, kMetricsKey};
    return UnknownKeyError(key, key, kTopLevelKeys);
  }
  SNAKEPIT_ASSIGN_OR_RETURN(parsed.config.pools, ParsePoolList(*pools));
  parsed.path_style = PathStyle::kPoolsList;
  return parsed;
}

}  // namespace snakepit::internal
