#include "common/unique_fd.h"

#include <fcntl.h>

#include <cerrno>

#include "absl/status/status.h"

namespace snakepit::internal {

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace snakepit::internal
