// UniqueFd: sole owner of a file descriptor; closes it on destruction.
#ifndef SNAKEPIT_SRC_COMMON_UNIQUE_FD_H_
#define SNAKEPIT_SRC_COMMON_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

#include <string_view>

#include "absl/status/statusor.h"

namespace snakepit::internal {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A pipe whose both ends are close-on-exec, so that no child process
// inherits an end it was not explicitly given.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};
// Fails as FdError does.
absl::StatusOr<Pipe> MakePipe();

// The status for a call `what` ("pipe2") that failed with errno `err`:
// out of descriptors (EMFILE, ENFILE) is RESOURCE_EXHAUSTED naming the
// process's RLIMIT_NOFILE and what a worker needs; anything else is
// absl::ErrnoToStatus.
absl::Status FdError(int err, std::string_view what);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_UNIQUE_FD_H_
