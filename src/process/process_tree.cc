#include "process/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace snakepit::internal {
namespace {

// A children file is a list of pids; the cap only stops a runaway read of
// something that is not a /proc file.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

// The most passes KillDescendants makes over the tree.
constexpr int kMaxPasses = 64;

// NOT_FOUND when the process or thread is gone (the caller skips it),
// PERMISSION_DENIED, or INTERNAL for anything else.
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

// Appends the children of every thread of `pid` to `out` (a child is listed
// under the thread that forked it). A process or thread that is gone has no
// children.
absl::Status AppendChildren(const std::string& proc_root, pid_t pid, std::vector<pid_t>& out) {
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
    pid_t tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;  // ".", ".."
    const std::string path = absl::StrCat(task_dir, "/", tid, "/children");
    absl::StatusOr<std::string> content = ReadSmallFile(path);
    if (absl::IsNotFound(content.status())) continue;  // the thread exited
    if (!content.ok()) return content.status();
    for (absl::string_view token : absl::StrSplit(*content, absl::ByAnyChar(" \t\n"), absl::SkipEmpty())) {
      pid_t child = 0;
      if (!absl::SimpleAtoi(token, &child) || child <= 0) {
        return absl::InternalError(absl::StrCat(path, ": malformed pid '", token, "'"));
      }
      out.push_back(child);
    }
  }
  if (errno != 0) return FileError(errno, "readdir", task_dir);
  return absl::OkStatus();
}

class System final : public ProcessSignaller {
 public:
  absl::StatusOr<std::vector<pid_t>> Descendants(pid_t pid) override { return ListDescendants(pid); }
  void Signal(pid_t pid, int sig) override { ::kill(pid, sig); }
};

}  // namespace

absl::StatusOr<std::vector<pid_t>> ListDescendants(pid_t pid, const std::string& proc_root) {
  std::vector<pid_t> found;
  std::deque<pid_t> pending = {pid};
  std::unordered_set<pid_t> seen = {pid};
  std::vector<pid_t> children;
  while (!pending.empty() && static_cast<int>(found.size()) < kMaxDescendants) {
    const pid_t current = pending.front();
    pending.pop_front();
    children.clear();
    if (absl::Status status = AppendChildren(proc_root, current, children); !status.ok()) return status;
    for (pid_t child : children) {
      if (static_cast<int>(found.size()) >= kMaxDescendants) break;
      if (!seen.insert(child).second) continue;
      found.push_back(child);
      pending.push_back(child);
    }
  }
  return found;
}

ProcessSignaller& SystemSignaller() {
  static System* const system = new System();
  return *system;
}

int KillDescendants(pid_t pid, ProcessSignaller& system) {
  std::vector<pid_t> stopped;
  std::unordered_set<pid_t> known;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    absl::StatusOr<std::vector<pid_t>> descendants = system.Descendants(pid);
    if (!descendants.ok()) break;  // kill what was found so far
    bool found_new = false;
    for (pid_t p : *descendants) {
      if (!known.insert(p).second) continue;
      found_new = true;
      system.Signal(p, SIGSTOP);
      stopped.push_back(p);
    }
    if (!found_new) break;
  }
  for (pid_t p : stopped) system.Signal(p, SIGKILL);
  return static_cast<int>(stopped.size());
}

}  // namespace snakepit::internal
