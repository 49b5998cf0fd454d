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
#include "common/unique_fd.h"

namespace snakepit::internal {
namespace {

// /proc files read here are a few hundred bytes (smaps_rollup) or a pid list;
// the cap only stops a runaway read of something that is not a /proc file.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

// Per-process figures above this (1 PiB) are refused as malformed, which
// also keeps the sum of kMaxTreeProcesses of them far from int64 overflow.
constexpr std::int64_t kMaxKiB = std::int64_t{1} << 40;

// A failed system call on `path` as a status: NOT_FOUND when the process (or
// thread) is gone, which callers treat as "skip", PERMISSION_DENIED, or
// INTERNAL for anything else.
absl::Status FileError(int err, const std::string& what, const std::string& path) {
  const std::string message(absl::ErrnoToStatus(err, absl::StrCat(what, " ", path)).message());
  if (err == ENOENT || err == ESRCH) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return FileError(errno, "open", path);
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(errno, "read", path);
    if (n == 0) return content;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxFileBytes) {
      return absl::InternalError(absl::StrCat(path, ": larger than ", kMaxFileBytes, " bytes"));
    }
  }
}

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
  SNAKEPIT_ASSIGN_OR_RETURN(const std::string content, ReadSmallFile(path));
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

// Appends the children of every thread of `pid` to `out` (a child is listed
// under the thread that forked it). A process or thread that is gone has no
// children.
absl::Status AppendChildren(const std::string& proc_root, int pid, std::vector<int>& out) {
  const std::string task_dir = absl::StrCat(proc_root, "/", pid, "/task");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(task_dir.c_str()), &::closedir);
  if (dir == nullptr) {
    const absl::Status status = FileError(errno, "opendir", task_dir);
    return absl::IsNotFound(status) ? absl::OkStatus() : status;
  }
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    int tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;  // ".", ".."
    const std::string path = absl::StrCat(task_dir, "/", tid, "/children");
    absl::StatusOr<std::string> content = ReadSmallFile(path);
    if (absl::IsNotFound(content.status())) continue;  // the thread exited
    if (!content.ok()) return content.status();
    for (absl::string_view token : absl::StrSplit(*content, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
      int child = 0;
      if (!absl::SimpleAtoi(token, &child) || child <= 0) {
        return absl::InternalError(absl::StrCat(path, ": malformed pid '", token, "'"));
      }
      out.push_back(child);
    }
  }
  if (errno != 0) return FileError(errno, "readdir", task_dir);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcessMemory> ReadProcessTreeMemory(int pid, const std::string& proc_root) {
  ProcessMemory total;
  // Breadth-first; `seen` guards against a pid listed twice or in a cycle
  // (a race with pid reuse, or a malformed proc_root), so each is read once.
  std::deque<int> pending = {pid};
  std::unordered_set<int> seen = {pid};
  std::vector<int> children;
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
    SNAKEPIT_RETURN_IF_ERROR(AppendChildren(proc_root, current, children));
    for (int child : children) {
      if (total.processes + static_cast<int>(pending.size()) >= kMaxTreeProcesses) break;
      if (seen.insert(child).second) pending.push_back(child);
    }
  }
  return total;
}

}  // namespace snakepit::internal
