#include "snakepit/compatibility.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace snakepit {
namespace internal {
std::string_view ThreadSafetyMatrixJson();  // generated (cmake/EmbedText.cmake)
}  // namespace internal

namespace {

absl::StatusOr<ThreadSafety> ParseSafety(const nlohmann::json& value, const std::string& library) {
  if (value.is_boolean()) return value.get<bool>() ? ThreadSafety::kSafe : ThreadSafety::kUnsafe;
  if (value.is_string() && value.get<std::string>() == "conditional") return ThreadSafety::kConditional;
  return absl::InvalidArgumentError(absl::StrCat("thread-safety matrix: library '", library,
                                                 "': thread_safe must be true, false or \"conditional\", got ",
                                                 value.dump()));
}

absl::StatusOr<LibraryCompatibility> ParseLibrary(const std::string& name, const nlohmann::json& j) {
  auto bad = [&](const char* field, const char* want) {
    return absl::InvalidArgumentError(
        absl::StrCat("thread-safety matrix: library '", name, "': '", field, "' must be ", want));
  };
  if (!j.is_object()) return bad("(entry)", "an object");
  LibraryCompatibility lib;
  lib.name = NormalizePackageName(name);
  if (!j.contains("thread_safe")) return bad("thread_safe", "present");
  absl::StatusOr<ThreadSafety> safety = ParseSafety(j["thread_safe"], name);
  if (!safety.ok()) return safety.status();
  lib.thread_safe = *safety;
  const nlohmann::json imports = j.value("import_names", nlohmann::json::array());
  if (!imports.is_array()) return bad("import_names", "a list of module names");
  for (const nlohmann::json& m : imports) {
    if (!m.is_string()) return bad("import_names", "a list of module names");
    lib.import_names.push_back(m.get<std::string>());
  }
  const nlohmann::json min = j.value("min_version", nlohmann::json());
  if (!min.is_null() && !min.is_string()) return bad("min_version", "a string or null");
  if (min.is_string()) lib.min_version = min.get<std::string>();
  const nlohmann::json notes = j.value("notes", nlohmann::json(""));
  if (!notes.is_string()) return bad("notes", "a string");
  lib.notes = notes.get<std::string>();
  return lib;
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The version a requirement's specifiers guarantee at least: the version of
// "==", "===", ">=", "~=" or ">" (a lower bound), "" if none.
std::string LowerBound(std::string_view specs) {
  std::string best;
  size_t pos = 0;
  while (pos < specs.size()) {
    size_t end = specs.find(',', pos);
    if (end == std::string_view::npos) end = specs.size();
    std::string spec = Trim(specs.substr(pos, end - pos));
    pos = end + 1;
    for (const char* op : {"===", "==", ">=", "~=", ">"}) {
      if (spec.rfind(op, 0) == 0) {
        std::string version = Trim(std::string_view(spec).substr(std::string_view(op).size()));
        if (version.find('*') != std::string::npos) version = version.substr(0, version.find('*'));
        while (!version.empty() && version.back() == '.') version.pop_back();
        if (!version.empty() && (best.empty() || CompareVersions(version, best) > 0)) best = version;
        break;
      }
    }
  }
  return best;
}

}  // namespace

std::string_view ThreadSafetyName(ThreadSafety safety) {
  switch (safety) {
    case ThreadSafety::kSafe:
      return "safe";
    case ThreadSafety::kUnsafe:
      return "unsafe";
    case ThreadSafety::kConditional:
      return "conditional";
  }
  return "unknown";
}

std::string NormalizePackageName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!out.empty() && out.back() != '-') out.push_back('-');
    } else {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

int CompareVersions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) -> long long {
    long long value = 0;
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && value < 1'000'000'000) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    const size_t dot = s.find('.');
    s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    return value;
  };
  while (!a.empty() || !b.empty()) {
    const long long x = next(a), y = next(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

nlohmann::json CompatibilityEntry::ToJson() const {
  nlohmann::json j = {{"requirement", requirement}, {"name", name}, {"version", version}, {"known", known}};
  if (known) {
    j["thread_safe"] = ThreadSafetyName(thread_safe);
    j["min_version"] = min_version.empty() ? nlohmann::json() : nlohmann::json(min_version);
    j["notes"] = notes;
  }
  j["meets_min_version"] = meets_min_version ? nlohmann::json(*meets_min_version) : nlohmann::json();
  return j;
}

absl::StatusOr<CompatibilityMatrix> CompatibilityMatrix::FromJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("libraries") || !j["libraries"].is_object()) {
    return absl::InvalidArgumentError("thread-safety matrix: expected an object with a \"libraries\" object");
  }
  CompatibilityMatrix matrix;
  for (const auto& [name, entry] : j["libraries"].items()) {
    absl::StatusOr<LibraryCompatibility> lib = ParseLibrary(name, entry);
    if (!lib.ok()) return lib.status();
    matrix.libraries_.push_back(*std::move(lib));
  }
  return matrix;
}

const CompatibilityMatrix& CompatibilityMatrix::Builtin() {
  static const CompatibilityMatrix* const matrix = [] {
    absl::StatusOr<CompatibilityMatrix> parsed = FromJson(internal::ThreadSafetyMatrixJson());
    // A broken data file is a build defect, caught by the tests; an empty
    // matrix (everything unknown) keeps the library usable meanwhile.
    return new CompatibilityMatrix(parsed.ok() ? *std::move(parsed) : CompatibilityMatrix());
  }();
  return *matrix;
}

const LibraryCompatibility* CompatibilityMatrix::Find(std::string_view name) const {
  const std::string wanted = NormalizePackageName(name);
  for (const LibraryCompatibility& lib : libraries_) {
    if (lib.name == wanted) return &lib;
  }
  for (const LibraryCompatibility& lib : libraries_) {
    for (const std::string& module : lib.import_names) {
      if (NormalizePackageName(module) == wanted) return &lib;
    }
  }
  return nullptr;
}

std::vector<CompatibilityEntry> CompatibilityMatrix::Report(const std::vector<std::string>& requirements) const {
  std::vector<CompatibilityEntry> entries;
  for (const std::string& raw : requirements) {
    std::string line = Trim(raw.substr(0, raw.find('#')));
    if (line.empty() || line[0] == '-') continue;  // blank, comment, pip option
    CompatibilityEntry entry;
    entry.requirement = line;
    line = Trim(std::string_view(line).substr(0, line.find(';')));  // environment marker
    size_t end = 0;
    while (end < line.size() && IsNameChar(line[end])) ++end;
    entry.name = NormalizePackageName(std::string_view(line).substr(0, end));
    std::string_view rest = std::string_view(line).substr(end);
    if (!rest.empty() && rest.front() == '[') {  // extras
      const size_t close = rest.find(']');
      rest = close == std::string_view::npos ? std::string_view() : rest.substr(close + 1);
    }
    if (entry.name.empty()) entry.name = line;
    entry.version = LowerBound(rest);
    if (const LibraryCompatibility* lib = Find(entry.name)) {
      entry.known = true;
      entry.name = lib->name;
      entry.thread_safe = lib->thread_safe;
      entry.min_version = lib->min_version;
      entry.notes = lib->notes;
      if (!lib->min_version.empty() && !entry.version.empty()) {
        entry.meets_min_version = CompareVersions(entry.version, lib->min_version) >= 0;
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<CompatibilityEntry> CompatibilityMatrix::ReportInstalled(
    const std::map<std::string, std::string>& packages) const {
  std::vector<std::string> pinned;
  for (const auto& [name, version] : packages) {
    if (Find(name) != nullptr) pinned.push_back(absl::StrCat(name, "==", version));
  }
  return Report(pinned);
}

std::vector<std::pair<const LibraryCompatibility*, std::string>> CompatibilityMatrix::UnsafeAmong(
    const std::map<std::string, std::string>& loaded) const {
  std::vector<std::pair<const LibraryCompatibility*, std::string>> unsafe;
  for (const auto& [name, version] : loaded) {
    const LibraryCompatibility* lib = Find(name);
    if (lib == nullptr || lib->thread_safe != ThreadSafety::kUnsafe) continue;
    const bool seen = std::any_of(unsafe.begin(), unsafe.end(), [lib](const auto& u) { return u.first == lib; });
    if (!seen) unsafe.emplace_back(lib, version);
  }
  return unsafe;
}

}  // namespace snakepit
