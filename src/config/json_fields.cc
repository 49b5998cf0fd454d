#include "config/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/config_errors.h"

namespace snakepit::internal {

using nlohmann::json;

absl::StatusOr<std::string> GetString(std::string_view path, const json& value) {
  if (!value.is_string()) return TypeError(path, "a string", value);
  return value.get_ref<const std::string&>();
}

absl::StatusOr<bool> GetBool(std::string_view path, const json& value) {
  if (!value.is_boolean()) return TypeError(path, "a boolean", value);
  return value.get<bool>();
}

absl::StatusOr<double> GetNumber(std::string_view path, const json& value) {
  if (!value.is_number()) return TypeError(path, "a number", value);
  return value.get<double>();
}

absl::StatusOr<std::int64_t> GetInteger(std::string_view path, const json& value) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    return value.get<std::int64_t>();
  }
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    return u > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(u);
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || d != std::trunc(d)) return TypeError(path, "an integer", value);
    // 2^63 is exactly representable; anything at or beyond it saturates.
    if (d >= 9223372036854775808.0) return kMax;
    if (d < -9223372036854775808.0) return kMin;
    return static_cast<std::int64_t>(d);
  }
  return TypeError(path, "an integer", value);
}

absl::StatusOr<std::vector<std::string>> GetStringArray(std::string_view path, const json& value) {
  if (!value.is_array()) return TypeError(path, "an array of strings", value);
  std::vector<std::string> result;
  result.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    absl::StatusOr<std::string> item = GetString(IndexPath(path, i), value[i]);
    if (!item.ok()) return item.status();
    result.push_back(*std::move(item));
  }
  return result;
}

absl::StatusOr<std::map<std::string, std::string>> GetStringMap(std::string_view path, const json& value) {
  if (!value.is_object()) return TypeError(path, "an object of strings", value);
  std::map<std::string, std::string> result;
  for (const auto& [key, item] : value.items()) {
    absl::StatusOr<std::string> text = GetString(JoinPath(path, key), item);
    if (!text.ok()) return text.status();
    result.emplace(key, *std::move(text));
  }
  return result;
}

int EditDistance(std::string_view a, std::string_view b) {
  // Two-row dynamic programme over insertions, deletions and substitutions.
  std::vector<int> previous(b.size() + 1);
  std::vector<int> current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

absl::Status UnknownKeyError(std::string_view path, std::string_view key, std::span<const std::string_view> known) {
  constexpr int kMaxSuggestionDistance = 2;
  std::string_view best;
  int best_distance = kMaxSuggestionDistance + 1;
  for (std::string_view candidate : known) {
    // The distance is at least the length difference; skip hopeless (and
    // possibly huge) keys without running the quadratic algorithm.
    const std::size_t longer = std::max(key.size(), candidate.size());
    const std::size_t shorter = std::min(key.size(), candidate.size());
    if (longer - shorter > static_cast<std::size_t>(kMaxSuggestionDistance)) continue;
    const int distance = EditDistance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // An empty key leaves the path unreadable; name it explicitly.
  const std::string what = key.empty() ? "unknown key \"\"" : "unknown key";
  if (best.empty()) return InvalidAt(path, what);
  return InvalidAt(path, absl::StrCat(what, " (did you mean ", Quote(best), "?)"));
}

}  // namespace snakepit::internal
