#include "process/proc_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace snakepit::internal {
namespace {

// The cap only stops a runaway read of something that is not a /proc file.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;

}  // namespace

absl::Status ProcFileError(int err, const std::string& what, const std::string& path) {
  const std::string message(absl::ErrnoToStatus(err, absl::StrCat(what, " ", path)).message());
  if (err == ENOENT || err == ESRCH) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::string> ReadProcFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ProcFileError(errno, "open", path);
  std::string content;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ProcFileError(errno, "read", path);
    if (n == 0) return content;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxFileBytes) {
      return absl::InternalError(absl::StrCat(path, ": larger than ", kMaxFileBytes, " bytes"));
    }
  }
}

absl::Status AppendProcChildren(const std::string& proc_root, pid_t pid, std::vector<pid_t>& out) {
  const std::string task_dir = absl::StrCat(proc_root, "/", pid, "/task");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(task_dir.c_str()), &::closedir);
  if (dir == nullptr) {
    const absl::Status status = ProcFileError(errno, "opendir", task_dir);
    return absl::IsNotFound(status) ? absl::OkStatus() : status;
  }
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    pid_t tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;  // ".", ".."
    const std::string path = absl::StrCat(task_dir, "/", tid, "/children");
    absl::StatusOr<std::string> content = ReadProcFile(path);
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
  if (errno != 0) return ProcFileError(errno, "readdir", task_dir);
  return absl::OkStatus();
}

}  // namespace snakepit::internal
