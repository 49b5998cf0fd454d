#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace snakepit::bench {
namespace {

absl::Status Errno(const char* what) { return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno))); }

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Spawn: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (const auto& [child_fd, parent_fd] : options.fds) {
    // The parent fds are >= 10 and the child fds 3..9, so dup2 always
    // creates a new descriptor, which does not inherit close-on-exec.
    posix_spawn_file_actions_adddup2(&actions, parent_fd, child_fd);
  }
  if (options.quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> argv = CStrings(options.argv);
  std::vector<char*> env = CStrings(options.env);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), options.env.empty() ? environ : env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError(absl::StrCat("posix_spawn ", options.argv[0], ": ", std::strerror(rc)));
  return std::unique_ptr<Subprocess>(new Subprocess(pid));
}

Subprocess::~Subprocess() {
  if (reaped_) return;
  ::kill(pid_, SIGTERM);
  if (Wait(stop_grace).ok()) return;
  ::kill(pid_, SIGKILL);
  (void)Wait(absl::InfiniteDuration());
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return status;
    }
    if (done < 0 && errno != EINTR) return Errno("waitpid");
    if (absl::Now() >= deadline) return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " still running"));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

absl::StatusOr<std::pair<int, int>> HighPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Errno("pipe2");
  std::pair<int, int> high{::fcntl(fds[0], F_DUPFD_CLOEXEC, 10), ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10)};
  ::close(fds[0]);
  ::close(fds[1]);
  if (high.first < 0 || high.second < 0) return Errno("fcntl(F_DUPFD_CLOEXEC)");
  return high;
}

absl::StatusOr<std::string> ReadLine(int fd, absl::Time deadline) {
  std::string line;
  while (true) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) return absl::DeadlineExceededError("no line before the deadline");
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno != EINTR) return Errno("read");
    if (n == 0) return line;  // EOF
    if (n < 0) continue;
    line.append(buf, static_cast<size_t>(n));
    if (const size_t nl = line.find('\n'); nl != std::string::npos) return line.substr(0, nl);
  }
}

}  // namespace snakepit::bench
