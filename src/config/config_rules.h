// The rules a configuration must satisfy, one function per rule, shared by
// the JSON loader (config_json.cc) and Config::Validate (config_validate.cc)
// so that the two paths cannot drift apart.
//
// Every Check* function returns OK or INVALID_ARGUMENT with the message
// "<path>: <reason>", where `path` is the key path of the checked value in
// the JSON syntax ("pools[1].threads_per_worker", "socket_dir").
#ifndef SNAKEPIT_SRC_CONFIG_CONFIG_RULES_H_
#define SNAKEPIT_SRC_CONFIG_CONFIG_RULES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/config_errors.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"

namespace snakepit::internal {

// Pool names appear in socket file names and metric labels.
inline constexpr std::size_t kMaxPoolNameLength = 64;

// Config text (string or file) larger than this is refused unread.
inline constexpr std::size_t kMaxConfigBytes = std::size_t{16} << 20;

// JSON nested deeper than this is refused: deeper documents serve no
// configuration purpose and would make recursive JSON code (copying,
// serializing, Python's json module) exhaust the stack.
inline constexpr int kMaxJsonDepth = 128;

// "preload" is handed to the worker as one command-line argument, which
// Linux limits to 128 KiB including the terminating NUL (MAX_ARG_STRLEN).
inline constexpr std::size_t kMaxPreloadBytes = (std::size_t{128} << 10) - 1;

// gRPC takes message limits as an int; 2047 MiB is the largest whole number
// of MiB below INT_MAX.
inline constexpr std::int64_t kMaxMessageMiB = 2047;
inline constexpr std::int64_t kMaxMessageBytes = kMaxMessageMiB << 20;

// Upper bound of every duration, so that deadline arithmetic
// (now + duration, in nanoseconds) cannot overflow.
inline constexpr std::int64_t kMaxDurationSeconds = 365 * 24 * 3600;
inline constexpr std::chrono::milliseconds kMaxDuration{kMaxDurationSeconds * 1000};

// Closed range of an integer key.
struct IntRange {
  std::int64_t min;
  std::int64_t max;
};
inline constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
inline constexpr IntRange kPoolSizeRange{1, 1024};
// 0: no limit.
inline constexpr IntRange kRlimitAsRange{0, std::int64_t{1} << 30};
inline constexpr IntRange kRlimitNofileRange{0, 1 << 20};
inline constexpr IntRange kThreadsPerWorkerRange{1, 1024};
inline constexpr IntRange kStartupBatchSizeRange{1, kIntMax};
inline constexpr IntRange kMaxQueueRange{0, kIntMax};
// A caller's reply poll, in µs: at most 10 ms (a longer poll only burns CPU).
inline constexpr IntRange kReplyPollUsRange{0, 10'000};
// Chunks a stream buffers on the host: at least one, so a stream can move.
inline constexpr IntRange kStreamBufferRange{1, 1 << 20};
// Lifecycle counts. Request counts stop at 2^53, the largest integer every
// JSON reader holds exactly; memory stops at 16 TiB, in MiB.
inline constexpr IntRange kWorkerMaxRequestsRange{0, std::int64_t{1} << 53};
inline constexpr IntRange kWorkerMaxMemoryMbRange{0, std::int64_t{16} << 20};
inline constexpr IntRange kHealthCheckFailuresRange{1, 1000};
inline constexpr IntRange kMaxSurgeRange{0, 1024};
inline constexpr IntRange kDegradedAfterFailuresRange{1, 1'000'000};
// Elastic pools: sizes within the pool size range, affinity keys up to a
// million (the table's memory is about 100 bytes a key).
inline constexpr IntRange kTargetQueueDepthRange{1, 1000};
inline constexpr IntRange kAffinityMaxKeysRange{1, 1'000'000};

// Whether a duration may be zero (where 0 means "none" or "off":
// "drain_timeout", "kill_grace", "worker_ttl", "worker_ttl_jitter",
// "health_check_interval", "call_kill_timeout") or must be positive (every
// other duration).
enum class ZeroDuration { kAllowed, kRejected };

// Whether `json` nests arrays/objects more than `limit` levels deep (a
// scalar has depth 0, [] has depth 1). Iterative: safe on any input.
bool JsonDeeperThan(const nlohmann::json& json, int limit);

// --- Rules on single values -------------------------------------------

absl::Status CheckIntRange(std::string_view path, std::int64_t value, IntRange range);

// Non-empty, at most kMaxPoolNameLength characters of [A-Za-z0-9_.-].
absl::Status CheckPoolName(std::string_view path, std::string_view name);

// "module:Class": both parts non-empty dotted ASCII Python identifiers.
absl::Status CheckAdapter(std::string_view path, std::string_view adapter);

// Strings that end up in argv or the environment must not contain NUL.
absl::Status CheckNoNul(std::string_view path, std::string_view value);

// A PYTHONPATH entry: non-empty, no NUL, no ':' (the separator).
absl::Status CheckPythonPathEntry(std::string_view path, std::string_view entry);

// Environment variable name: non-empty, no '=', no NUL. `path` names the
// env object (e.g. "pools[0].env"), since the key itself may be unprintable.
absl::Status CheckEnvName(std::string_view path, std::string_view name);

// A JSON array, at most kMaxJsonDepth deep, serializable as UTF-8 JSON in at
// most kMaxPreloadBytes bytes.
absl::Status CheckPreload(std::string_view path, const nlohmann::json& preload);

// 0 < duration <= kMaxDuration, or 0 <= duration when zero is allowed.
absl::Status CheckDuration(std::string_view path, std::chrono::milliseconds duration, ZeroDuration zero);

// 1 <= bytes <= kMaxMessageBytes.
absl::Status CheckMaxMessageBytes(std::string_view path, std::int64_t bytes);

// Empty (the default) or an absolute path without NUL.
absl::Status CheckSocketDir(std::string_view path, std::string_view dir);

// --- Rules that tie two values together ---------------------------------

// A value that only qualifies another one: a jitter (`path`, e.g.
// "pools[0].worker_ttl_jitter") spreads its base value (`base_key`, e.g.
// "worker_ttl"), a TLS CA only matters with a TLS certificate. A value set
// without its base fails with "<path>: has no effect without <base_key>".
absl::Status CheckHasBase(std::string_view path, bool has_value, bool has_base, std::string_view base_key);

// restart_backoff_max (`path`) >= restart_backoff_initial; the message
// names both values.
absl::Status CheckBackoffOrder(std::string_view path, std::chrono::milliseconds initial, std::chrono::milliseconds max);

// --- Unit conversions (JSON -> C++), applying the rules above ------------

// Seconds -> milliseconds, rounded to the nearest millisecond; a positive
// value below 0.5 ms becomes 1 ms rather than zero (and a negative one -1 ms,
// so that it is still rejected). Fails as CheckDuration does, and on NaN.
absl::StatusOr<std::chrono::milliseconds> SecondsToDuration(std::string_view path, double seconds, ZeroDuration zero);

// MiB -> bytes, rounded to the nearest byte (at least 1 for a positive
// value). Fails as CheckMaxMessageBytes does, and on NaN.
absl::StatusOr<std::int64_t> MiBToBytes(std::string_view path, double mib);

// "process" -> kProcess, "thread" -> kThread; anything else fails with
// `unknown profile "x" (expected "process" or "thread")`.
absl::StatusOr<Profile> ParseProfile(std::string_view path, std::string_view name);

// "auto", "native" or "grpcio"; INVALID_ARGUMENT at `path` otherwise.
absl::StatusOr<WorkerTransport> ParseWorkerTransport(std::string_view path, std::string_view name);

// "auto", "spawn" or "template"; INVALID_ARGUMENT at `path` otherwise.
absl::StatusOr<StartMethod> ParseStartMethod(std::string_view path, std::string_view name);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_CONFIG_RULES_H_
