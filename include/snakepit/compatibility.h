// The library thread-safety compatibility matrix: which Python libraries are
// safe to call from several threads of one worker (the thread profile).
//
// The data is python/snakepit_worker/thread_safety_matrix.json, the same file
// the Python worker reads; it is compiled into the library (Builtin()).
// docs/thread-safety.md explains the entries.
#ifndef SNAKEPIT_COMPATIBILITY_H_
#define SNAKEPIT_COMPATIBILITY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/export.h"

namespace snakepit {

enum class ThreadSafety {
  kSafe,         // concurrent calls from several threads are fine
  kUnsafe,       // must not be used from several threads of one process
  kConditional,  // safe if used as the notes say (per-thread objects, ...)
};

// "safe", "unsafe", "conditional".
SNAKEPIT_EXPORT std::string_view ThreadSafetyName(ThreadSafety safety);

struct SNAKEPIT_EXPORT LibraryCompatibility {
  std::string name;                       // distribution name, normalised ("scikit-learn")
  std::vector<std::string> import_names;  // top-level modules ("sklearn")
  ThreadSafety thread_safe = ThreadSafety::kConditional;
  std::string min_version;  // first version safe / free-threading ready; "" if none
  std::string notes;
};

// One line of a compatibility report.
struct SNAKEPIT_EXPORT CompatibilityEntry {
  std::string requirement;  // as given ("numpy>=1.26"), or "name==version" when installed
  std::string name;         // normalised distribution name
  std::string version;      // version the requirement's lower bound or pin names, or the installed one; "" if none
  bool known = false;       // listed in the matrix; the fields below are meaningful only then
  ThreadSafety thread_safe = ThreadSafety::kConditional;
  std::string min_version;
  std::string notes;
  // Whether `version` reaches min_version; nullopt when either is unknown.
  std::optional<bool> meets_min_version;

  nlohmann::json ToJson() const;
};

class SNAKEPIT_EXPORT CompatibilityMatrix {
 public:
  // The matrix compiled into the library. Never fails: the build checks
  // the data file (a malformed one fails the library's tests).
  static const CompatibilityMatrix& Builtin();

  // Parses a matrix in the data file's format. INVALID_ARGUMENT naming the
  // library and field at fault.
  static absl::StatusOr<CompatibilityMatrix> FromJson(std::string_view text);

  // By distribution or import name; case, '-', '_' and '.' do not matter.
  // nullptr when unknown. The pointer lives as long as the matrix.
  const LibraryCompatibility* Find(std::string_view name) const;

  const std::vector<LibraryCompatibility>& libraries() const { return libraries_; }

  // One entry per requirement line ("numpy>=1.26", "torch==2.1 ; python_version>'3'",
  // "requests"); blank lines, comments and pip options ("-r", "--index-url")
  // are skipped. A line that is not a requirement becomes an unknown entry
  // named after the line, so nothing given is silently dropped.
  std::vector<CompatibilityEntry> Report(const std::vector<std::string>& requirements) const;

  // Entries for the installed packages (name -> version, as the
  // environment probe reports them) that the matrix knows.
  std::vector<CompatibilityEntry> ReportInstalled(const std::map<std::string, std::string>& packages) const;

  // The libraries among `loaded` (distribution or import name -> version,
  // as a worker reports them) that the matrix marks unsafe, each once,
  // with the version given for it. Pointers live as long as the matrix.
  std::vector<std::pair<const LibraryCompatibility*, std::string>> UnsafeAmong(
      const std::map<std::string, std::string>& loaded) const;

 private:
  std::vector<LibraryCompatibility> libraries_;
};

// Compares dotted versions numerically, component by component ("1.10" >
// "1.9"; a missing component is 0; a component's leading digits count, so
// "2.1rc1" compares as 2.1). Negative, zero or positive.
SNAKEPIT_EXPORT int CompareVersions(std::string_view a, std::string_view b);

// PEP 503 normalisation: lower case, runs of '-', '_', '.' become '-'.
SNAKEPIT_EXPORT std::string NormalizePackageName(std::string_view name);

}  // namespace snakepit

#endif  // SNAKEPIT_COMPATIBILITY_H_
