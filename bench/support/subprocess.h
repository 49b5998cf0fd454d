// Subprocess: one child process started with posix_spawn; the destructor
// stops and reaps it, so a benchmark that fails half-way leaves no process
// behind.
#ifndef SNAKEPIT_BENCH_SUPPORT_SUBPROCESS_H_
#define SNAKEPIT_BENCH_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace snakepit::bench {

struct SpawnOptions {
  std::vector<std::string> argv = {};  // argv[0] is the program's path
  // The child's whole environment ("NAME=value"); empty: this process's.
  std::vector<std::string> env = {};
  // Parent fds handed to the child as {child_fd, parent_fd}; child fds
  // must be 3..9 (parent fds >= 10 are left to the helpers below).
  std::vector<std::pair<int, int>> fds = {};
  // stdout and stderr to /dev/null instead of this process's.
  bool quiet = false;
};

class Subprocess {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Subprocess>> Spawn(const SpawnOptions& options);
  // SIGTERM, then SIGKILL after `stop_grace`; reaps the child.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to `timeout` for the child to exit; its wait status, or
  // DEADLINE_EXCEEDED (the child keeps running).
  [[nodiscard]] absl::StatusOr<int> Wait(absl::Duration timeout);

  absl::Duration stop_grace = absl::Seconds(3);

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
};

// A pipe whose ends are close-on-exec and numbered >= 10, so that
// SpawnOptions::fds can map them to 3..9 in the child. {read, write}.
[[nodiscard]] absl::StatusOr<std::pair<int, int>> HighPipe();

// Reads one '\n'-terminated line from `fd` (without the '\n'), waiting at
// most until `deadline`. Text read before EOF counts as the line.
[[nodiscard]] absl::StatusOr<std::string> ReadLine(int fd, absl::Time deadline);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_SUBPROCESS_H_
