#include "config/config_rules.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

using nlohmann::json;

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// [A-Za-z_][A-Za-z0-9_]* (ASCII only).
bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  const auto first = static_cast<unsigned char>(s.front());
  if (!absl::ascii_isalpha(first) && first != '_') return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// One or more identifiers joined by '.'.
bool IsDottedIdentifier(std::string_view s) {
  while (true) {
    const std::size_t dot = s.find('.');
    if (!IsIdentifier(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

// Milliseconds as exact decimal seconds: 100 ms -> "0.1", 30000 ms -> "30".
std::string SecondsText(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  const std::uint64_t magnitude = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  std::string text = absl::StrCat(ms < 0 ? "-" : "", magnitude / 1000);
  if (const std::uint64_t fraction = magnitude % 1000; fraction != 0) {
    std::string digits = absl::StrCat(fraction + 1000).substr(1);  // zero-padded to 3
    digits.erase(digits.find_last_not_of('0') + 1);
    absl::StrAppend(&text, ".", digits);
  }
  return text;
}

}  // namespace

bool JsonDeeperThan(const json& root, int limit) {
  std::vector<std::pair<const json*, int>> pending = {{&root, 0}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth + 1 > limit) return true;
    for (const json& child : *node) pending.emplace_back(&child, depth + 1);
  }
  return false;
}

absl::Status CheckIntRange(std::string_view path, std::int64_t value, IntRange range) {
  if (value < range.min) return InvalidAt(path, absl::StrCat("must be >= ", range.min));
  if (value > range.max) return InvalidAt(path, absl::StrCat("must be <= ", range.max));
  return absl::OkStatus();
}

absl::Status CheckPoolName(std::string_view path, std::string_view name) {
  if (name.empty()) return InvalidAt(path, "must not be empty");
  if (name.size() > kMaxPoolNameLength) {
    return InvalidAt(
        path, absl::StrCat(Quote(name), " is ", name.size(), " characters long; the limit is ", kMaxPoolNameLength));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidAt(path, absl::StrCat(Quote(name), " contains ", Quote(std::string(1, c)),
                                          "; pool names may use only letters, digits, "
                                          "'_', '.' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAdapter(std::string_view path, std::string_view adapter) {
  const std::size_t colon = adapter.find(':');
  if (colon == std::string_view::npos || !IsDottedIdentifier(adapter.substr(0, colon)) ||
      !IsDottedIdentifier(adapter.substr(colon + 1))) {
    return InvalidAt(path, absl::StrCat("must be \"module:Class\" with dotted Python "
                                        "identifiers on both sides, got ",
                                        Quote(adapter)));
  }
  return absl::OkStatus();
}

absl::Status CheckNoNul(std::string_view path, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) {
    return InvalidAt(path, "must not contain a NUL character");
  }
  return absl::OkStatus();
}

absl::Status CheckPythonPathEntry(std::string_view path, std::string_view entry) {
  if (entry.empty()) return InvalidAt(path, "must not be empty");
  if (entry.find(':') != std::string_view::npos) {
    return InvalidAt(path, absl::StrCat(Quote(entry), " contains ':', the PYTHONPATH separator"));
  }
  return CheckNoNul(path, entry);
}

absl::Status CheckEnvName(std::string_view path, std::string_view name) {
  if (name.empty()) return InvalidAt(path, "variable names must not be empty");
  if (name.find('=') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return InvalidAt(path, absl::StrCat("variable name ", Quote(name), " must not contain '=' or NUL"));
  }
  return absl::OkStatus();
}

absl::Status CheckPreload(std::string_view path, const json& preload) {
  if (!preload.is_array()) return TypeError(path, "an array", preload);
  if (JsonDeeperThan(preload, kMaxJsonDepth)) {
    return InvalidAt(path, absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels"));
  }
  std::string text;
  try {
    text = preload.dump();  // strict: throws type_error on invalid UTF-8
  } catch (const json::exception& e) {
    return InvalidAt(path, absl::StrCat("cannot be serialized: ", SanitizeForMessage(e.what())));
  }
  if (text.size() > kMaxPreloadBytes) {
    return InvalidAt(path, absl::StrCat("serializes to ", text.size(), " bytes of JSON; the limit is ",
                                        kMaxPreloadBytes, " (it is passed as one command-line argument)"));
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(std::string_view path, std::chrono::milliseconds duration, ZeroDuration zero) {
  if (zero == ZeroDuration::kAllowed && duration.count() < 0) {
    return InvalidAt(path, "must be >= 0 seconds");
  }
  if (zero == ZeroDuration::kRejected && duration.count() <= 0) {
    return InvalidAt(path, "must be > 0 seconds");
  }
  if (duration > kMaxDuration) {
    return InvalidAt(path, absl::StrCat("must be <= ", kMaxDurationSeconds, " seconds (365 days)"));
  }
  return absl::OkStatus();
}

absl::Status CheckMaxMessageBytes(std::string_view path, std::int64_t bytes) {
  if (bytes < 1 || bytes > kMaxMessageBytes) {
    return InvalidAt(path, absl::StrCat("must be > 0 and <= ", kMaxMessageMiB, " MiB (", kMaxMessageBytes, " bytes)"));
  }
  return absl::OkStatus();
}

absl::Status CheckSocketDir(std::string_view path, std::string_view dir) {
  if (dir.empty()) return absl::OkStatus();
  if (dir.front() != '/') {
    return InvalidAt(path, absl::StrCat("must be an absolute path, got ", Quote(dir)));
  }
  return CheckNoNul(path, dir);
}

absl::Status CheckHasBase(std::string_view path, bool has_value, bool has_base, std::string_view base_key) {
  if (has_value && !has_base) return InvalidAt(path, absl::StrCat("has no effect without ", AsAbsl(base_key)));
  return absl::OkStatus();
}

absl::Status CheckBackoffOrder(std::string_view path, std::chrono::milliseconds initial,
                               std::chrono::milliseconds max) {
  if (max >= initial) return absl::OkStatus();
  return InvalidAt(path, absl::StrCat("must be >= restart_backoff_initial (", SecondsText(initial), " seconds), got ",
                                      SecondsText(max), " seconds"));
}

absl::StatusOr<std::chrono::milliseconds> SecondsToDuration(std::string_view path, double seconds, ZeroDuration zero) {
  if (std::isnan(seconds)) return InvalidAt(path, "expected a number of seconds, got NaN");
  // Clamp first so that the conversion to an integer is always defined; the
  // clamped values fail CheckDuration exactly as the originals would.
  const double ms = seconds * 1000.0;
  const double limit = static_cast<double>(kMaxDuration.count());
  std::chrono::milliseconds result;
  if (ms > limit) {
    result = kMaxDuration + std::chrono::milliseconds(1);
  } else if (ms < -limit) {
    result = -kMaxDuration;
  } else {
    result = std::chrono::milliseconds(std::llround(ms));
    if (result.count() == 0 && seconds > 0) result = std::chrono::milliseconds(1);
    if (result.count() == 0 && seconds < 0) result = std::chrono::milliseconds(-1);
  }
  if (absl::Status status = CheckDuration(path, result, zero); !status.ok()) return status;
  return result;
}

absl::StatusOr<std::int64_t> MiBToBytes(std::string_view path, double mib) {
  if (std::isnan(mib)) return InvalidAt(path, "expected a number of MiB, got NaN");
  const double bytes = mib * static_cast<double>(std::int64_t{1} << 20);
  std::int64_t result;
  if (bytes > static_cast<double>(kMaxMessageBytes)) {
    result = kMaxMessageBytes + 1;
  } else if (bytes < 0) {
    result = 0;
  } else {
    result = std::llround(bytes);
    if (result == 0 && mib > 0) result = 1;
  }
  if (absl::Status status = CheckMaxMessageBytes(path, result); !status.ok()) return status;
  return result;
}

absl::StatusOr<Profile> ParseProfile(std::string_view path, std::string_view name) {
  if (name == ProfileName(Profile::kProcess)) return Profile::kProcess;
  if (name == ProfileName(Profile::kThread)) return Profile::kThread;
  return InvalidAt(path, absl::StrCat("unknown profile ", Quote(name), " (expected \"process\" or \"thread\")"));
}

absl::StatusOr<WorkerTransport> ParseWorkerTransport(std::string_view path, std::string_view name) {
  for (WorkerTransport transport :
       {WorkerTransport::kAuto, WorkerTransport::kNative, WorkerTransport::kGrpcio, WorkerTransport::kShm}) {
    if (name == WorkerTransportName(transport)) return transport;
  }
  return InvalidAt(path, absl::StrCat("unknown worker transport ", Quote(name),
                                      " (expected \"auto\", \"shm\", \"native\" or \"grpcio\")"));
}

absl::StatusOr<StartMethod> ParseStartMethod(std::string_view path, std::string_view name) {
  for (StartMethod method : {StartMethod::kAuto, StartMethod::kSpawn, StartMethod::kTemplate}) {
    if (name == StartMethodName(method)) return method;
  }
  return InvalidAt(
      path, absl::StrCat("unknown start method ", Quote(name), " (expected \"auto\", \"spawn\" or \"template\")"));
}

}  // namespace snakepit::internal
