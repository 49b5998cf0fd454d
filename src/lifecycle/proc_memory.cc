#include "lifecycle/proc_memory.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "process/proc_files.h"

namespace snakepit::internal {
namespace {

// Per-process figures above this (1 PiB) are refused as malformed, which
// also keeps the sum of kMaxTreeProcesses of them far from int64 overflow.
constexpr std::int64_t kMaxKiB = std::int64_t{1} << 40;

// The value of the "<key>   1234 kB" line of an smaps_rollup, in bytes.
// `key` includes the colon, so "Pss:" does not match "Pss_Anon:".
absl::StatusOr<std::int64_t> RollupField(absl::string_view content, absl::string_view key, const std::string& path) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    absl::string_view value = line;
    if (!absl::ConsumePrefix(&value, key)) continue;
    value = absl::StripAsciiWhitespace(value);
    std::int64_t kib = 0;
    if (!absl::ConsumeSuffix(&value, "kB") || !absl::SimpleAtoi(value, &kib) || kib < 0 || kib > kMaxKiB) {
      return absl::InternalError(absl::StrCat(path, ": malformed line '", line, "'"));
    }
    return kib * 1024;
  }
  return absl::InternalError(absl::StrCat(path, ": no '", key, "' line"));
}

// Rss and Pss of one process; NOT_FOUND when it is gone or a zombie (the
// kernel answers ESRCH for a process without memory).
absl::Status AddRollup(const std::string& proc_root, int pid, ProcessMemory& total) {
  const std::string path = absl::StrCat(proc_root, "/", pid, "/smaps_rollup");
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string content, ReadProcFile(path));
  // A live process always has the "[rollup]" header; treat an empty file as
  // a process that lost its memory while being read.
  if (content.empty()) return absl::NotFoundError(absl::StrCat(path, ": empty"));
  SNAKEPIT_ASSIGN_OR_RETURN(const std::int64_t rss, RollupField(content, "Rss:", path));
  SNAKEPIT_ASSIGN_OR_RETURN(const std::int64_t pss, RollupField(content, "Pss:", path));
  total.rss_bytes += rss;
  total.pss_bytes += pss;
  ++total.processes;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcessMemory> ReadProcessTreeMemory(int pid, const std::string& proc_root) {
  ProcessMemory total;
  // Breadth-first; `seen` guards against a pid listed twice or in a cycle
  // (a race with pid reuse, or a malformed proc_root), so each is read once.
  std::deque<int> pending = {pid};
  std::unordered_set<int> seen = {pid};
  std::vector<pid_t> children;
  while (!pending.empty()) {
    const int current = pending.front();
    pending.pop_front();
    if (absl::Status status = AddRollup(proc_root, current, total); !status.ok()) {
      if (!absl::IsNotFound(status)) return status;
      if (current == pid) {
        return absl::NotFoundError(absl::StrCat("process ", pid, " not found (", status.message(), ")"));
      }
      continue;  // it exited while being read: skipped, and so are its children
    }
    children.clear();
    SNAKEPIT_RETURN_IF_ERROR(AppendProcChildren(proc_root, current, children));
    for (pid_t child : children) {
      if (total.processes + static_cast<int>(pending.size()) >= kMaxTreeProcesses) break;
      if (seen.insert(child).second) pending.push_back(child);
    }
  }
  return total;
}

}  // namespace snakepit::internal
