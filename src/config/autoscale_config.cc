#include "config/autoscale_config.h"

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/config_errors.h"
#include "config/config_rules.h"
#include "config/json_fields.h"

namespace snakepit::internal {
namespace {

using nlohmann::json;
using FieldParser = absl::Status (*)(const std::string& path, const json& value, AutoscaleConfig& out);

template <int AutoscaleConfig::*kMember>
absl::Status ParseInt(const std::string& path, const json& value, AutoscaleConfig& out) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::int64_t number, GetInteger(path, value));
  // The range rules are ValidateAutoscale's; this only keeps the int safe.
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(path, number, IntRange{0, kIntMax}));
  out.*kMember = static_cast<int>(number);
  return absl::OkStatus();
}

template <double AutoscaleConfig::*kMember>
absl::Status ParseFraction(const std::string& path, const json& value, AutoscaleConfig& out) {
  SNAKEPIT_ASSIGN_OR_RETURN(out.*kMember, GetNumber(path, value));
  return absl::OkStatus();
}

template <std::chrono::milliseconds AutoscaleConfig::*kMember, ZeroDuration kZero>
absl::Status ParseSeconds(const std::string& path, const json& value, AutoscaleConfig& out) {
  SNAKEPIT_ASSIGN_OR_RETURN(const double seconds, GetNumber(path, value));
  SNAKEPIT_ASSIGN_OR_RETURN(out.*kMember, SecondsToDuration(path, seconds, kZero));
  return absl::OkStatus();
}

absl::Status ParseTarget(const std::string& path, const json& value, AutoscaleConfig& out) {
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string name, GetString(path, value));
  if (name == "utilization") {
    out.target = AutoscaleTarget::kUtilization;
  } else if (name == "queue_depth") {
    out.target = AutoscaleTarget::kQueueDepth;
  } else {
    return InvalidAt(path,
                     absl::StrCat("unknown target ", Quote(name), " (expected \"utilization\" or \"queue_depth\")"));
  }
  return absl::OkStatus();
}

struct Field {
  std::string_view key;
  FieldParser parse;
};

// Every key of an "autoscale" object. docs/configuration.md documents each.
constexpr Field kFields[] = {
    {"min_workers", &ParseInt<&AutoscaleConfig::min_workers>},
    {"max_workers", &ParseInt<&AutoscaleConfig::max_workers>},
    {"target", &ParseTarget},
    {"target_utilization", &ParseFraction<&AutoscaleConfig::target_utilization>},
    {"target_queue_depth", &ParseInt<&AutoscaleConfig::target_queue_depth>},
    {"hysteresis", &ParseFraction<&AutoscaleConfig::hysteresis>},
    {"scale_up_delay", &ParseSeconds<&AutoscaleConfig::scale_up_delay, ZeroDuration::kAllowed>},
    {"scale_down_delay", &ParseSeconds<&AutoscaleConfig::scale_down_delay, ZeroDuration::kAllowed>},
    {"idle_timeout", &ParseSeconds<&AutoscaleConfig::idle_timeout, ZeroDuration::kAllowed>},
    {"sample_interval", &ParseSeconds<&AutoscaleConfig::sample_interval, ZeroDuration::kRejected>},
};

// The smallest sampling period: below it the sampler would busy the host.
constexpr std::chrono::milliseconds kMinSampleInterval{10};

}  // namespace

absl::StatusOr<AutoscaleConfig> ParseAutoscaleConfig(const std::string& path, const json& value) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  AutoscaleConfig out;
  for (const auto& [key, item] : value.items()) {
    const Field* field = nullptr;
    for (const Field& candidate : kFields) {
      if (candidate.key == key) field = &candidate;
    }
    if (field == nullptr) {
      std::vector<std::string_view> known;
      for (const Field& candidate : kFields) known.push_back(candidate.key);
      return UnknownKeyError(JoinPath(path, key), key, known);
    }
    SNAKEPIT_RETURN_IF_ERROR(field->parse(JoinPath(path, key), item, out));
  }
  return out;
}

absl::Status ValidateAutoscale(const AutoscaleConfig& a, std::string_view path) {
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "min_workers"), a.min_workers, kPoolSizeRange));
  SNAKEPIT_RETURN_IF_ERROR(CheckIntRange(JoinPath(path, "max_workers"), a.max_workers, kPoolSizeRange));
  if (a.max_workers < a.min_workers) {
    return InvalidAt(JoinPath(path, "max_workers"),
                     absl::StrCat("must be >= min_workers (", a.min_workers, "), got ", a.max_workers));
  }
  if (AutoscaleTargetName(a.target) == "unknown") {
    return InvalidAt(JoinPath(path, "target"), absl::StrCat("unknown target value ", static_cast<int>(a.target)));
  }
  if (!(a.target_utilization > 0 && a.target_utilization <= 1)) {
    return InvalidAt(JoinPath(path, "target_utilization"),
                     absl::StrCat("must be in (0, 1] (a share of the slots), got ", a.target_utilization));
  }
  SNAKEPIT_RETURN_IF_ERROR(
      CheckIntRange(JoinPath(path, "target_queue_depth"), a.target_queue_depth, kTargetQueueDepthRange));
  const AutoscaleConfig defaults;
  if (a.target == AutoscaleTarget::kUtilization && a.target_queue_depth != defaults.target_queue_depth) {
    return InvalidAt(JoinPath(path, "target_queue_depth"), "only applies to target \"queue_depth\"");
  }
  if (a.target == AutoscaleTarget::kQueueDepth && a.target_utilization != defaults.target_utilization) {
    return InvalidAt(JoinPath(path, "target_utilization"), "only applies to target \"utilization\"");
  }
  if (!(a.hysteresis >= 0 && a.hysteresis <= 0.9)) {
    return InvalidAt(JoinPath(path, "hysteresis"), absl::StrCat("must be in [0, 0.9], got ", a.hysteresis));
  }
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "scale_up_delay"), a.scale_up_delay, ZeroDuration::kAllowed));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckDuration(JoinPath(path, "scale_down_delay"), a.scale_down_delay, ZeroDuration::kAllowed));
  SNAKEPIT_RETURN_IF_ERROR(CheckDuration(JoinPath(path, "idle_timeout"), a.idle_timeout, ZeroDuration::kAllowed));
  SNAKEPIT_RETURN_IF_ERROR(
      CheckDuration(JoinPath(path, "sample_interval"), a.sample_interval, ZeroDuration::kRejected));
  if (a.sample_interval < kMinSampleInterval) {
    return InvalidAt(JoinPath(path, "sample_interval"), absl::StrCat("must be at least ", kMinSampleInterval.count(),
                                                                     " ms, got ", a.sample_interval.count(), " ms"));
  }
  return absl::OkStatus();
}

}  // namespace snakepit::internal
