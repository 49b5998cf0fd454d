#include "common/unique_fd.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return FdError(errno, "pipe2");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

absl::Status FdError(int err, std::string_view what) {
  const std::string call(what);
  if (err == ENFILE) {
    return absl::ResourceExhaustedError(absl::StrCat(call, ": the system's file table is full (ENFILE)"));
  }
  if (err != EMFILE) return absl::ErrnoToStatus(err, call);
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return absl::ResourceExhaustedError(
      absl::StrCat(call, ": out of file descriptors: the process's RLIMIT_NOFILE is ", limit.rlim_cur,
                   " and all are in use; the host needs 4 per running worker, 5 per starting one, and about 16 besides "
                   "(docs/reliability.md): raise the limit (ulimit -n) or run fewer workers"));
}

}  // namespace snakepit::internal
