#include "process/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "process/process_tree.h"

namespace snakepit::internal {
namespace {

// Child fd targets are small numbers (1, 2, 3, 4, ...). Moving every
// source fd above the highest target first means no dup2 in the child can
// clobber a source that a later dup2 still needs, and no source already
// sits on its own target (where dup2 would be a no-op that keeps
// close-on-exec set). The lowest free fd above the targets is taken, so
// this works within any RLIMIT_NOFILE that leaves room for the copies.
int LowestSourceFd(const SpawnRequest& request) {
  int highest_target = 2;  // stdout and stderr
  for (const auto& [parent_fd, child_fd] : request.fds) highest_target = std::max(highest_target, child_fd);
  return highest_target + 1;
}

class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttr {
 public:
  SpawnAttr() { ::posix_spawnattr_init(&attr_); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

ExitInfo FromSigInfo(const siginfo_t& si) {
  ExitInfo info;
  if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
    info.signal = si.si_status;
  } else {
    info.exit_code = si.si_status;
  }
  return info;
}

// Whether the process behind `pidfd` has exited (the pidfd is readable),
// without waiting.
bool PidfdReadable(int pidfd) {
  pollfd pfd{pidfd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

}  // namespace

std::string ExitInfo::ToString() const {
  if (!detail.empty()) return detail;
  if (status_unknown) return "exit status unknown: reaped by someone else";
  if (signal != 0) {
    const char* abbrev = ::sigabbrev_np(signal);
    return absl::StrCat("killed by signal ", signal, abbrev ? absl::StrCat(" (SIG", abbrev, ")") : "");
  }
  return absl::StrCat("exit status ", exit_code);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const SpawnRequest& request) {
  for (const auto& [parent_fd, child_fd] : request.fds) {
    if (child_fd < 3) return absl::InvalidArgumentError(absl::StrCat("child fd ", child_fd, " must be 3 or more"));
  }
  const int high_fd = LowestSourceFd(request);
  std::vector<UniqueFd> high_fds;  // closed in the parent when we return
  FileActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  if (request.output_fd >= 0) {
    UniqueFd high(::fcntl(request.output_fd, F_DUPFD_CLOEXEC, high_fd));
    if (!high.valid()) return FdError(errno, "fcntl(F_DUPFD_CLOEXEC)");
    ::posix_spawn_file_actions_adddup2(actions.get(), high.get(), 1);
    ::posix_spawn_file_actions_adddup2(actions.get(), high.get(), 2);
    high_fds.push_back(std::move(high));
  } else {
    ::posix_spawn_file_actions_addopen(actions.get(), 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_addopen(actions.get(), 2, "/dev/null", O_WRONLY, 0);
  }
  for (const auto& [parent_fd, child_fd] : request.fds) {
    UniqueFd high(::fcntl(parent_fd, F_DUPFD_CLOEXEC, high_fd));
    if (!high.valid()) return FdError(errno, "fcntl(F_DUPFD_CLOEXEC)");
    ::posix_spawn_file_actions_adddup2(actions.get(), high.get(), child_fd);
    high_fds.push_back(std::move(high));
  }

  SpawnAttr attr;
  sigset_t empty, all_default;
  ::sigemptyset(&empty);
  ::sigfillset(&all_default);
  ::sigdelset(&all_default, SIGKILL);
  ::sigdelset(&all_default, SIGSTOP);
  ::posix_spawnattr_setsigmask(attr.get(), &empty);
  ::posix_spawnattr_setsigdefault(attr.get(), &all_default);
  ::posix_spawnattr_setpgroup(attr.get(), 0);
  ::posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.env);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, request.executable.c_str(), actions.get(), attr.get(), argv.data(), envp.data());
  if (rc == ENOENT) {
    return absl::NotFoundError(absl::StrCat("executable '", request.executable, "' not found"));
  }
  if (rc != 0) {
    return FdError(rc, absl::StrCat("posix_spawn('", request.executable, "')"));
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    const int err = errno;
    if (err == ESRCH) {
      // It exited at once and someone else reaped it (SIGCHLD is SIG_IGN):
      // there is no process left to own, and the pid may be reused.
      return absl::UnavailableError(
          absl::StrCat("'", request.executable, "' exited at once (exit status unknown: reaped by someone else)"));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return FdError(err, "pidfd_open");
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, std::move(pidfd)));
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Adopt(pid_t pid) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("cannot adopt pid ", pid));
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    if (errno == ESRCH) return absl::FailedPreconditionError(absl::StrCat("pid ", pid, " does not exist"));
    return FdError(errno, "pidfd_open");
  }
  // Only our own child can be waited for: a zombie or running child
  // answers WNOHANG|WNOWAIT with 0, anything else with ECHILD. Nothing is
  // consumed, so the watcher's reap still gets the status.
  siginfo_t si{};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd.get()), &si, WEXITED | WNOHANG | WNOWAIT);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    const int err = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid, " is not a child of this process (", ::strerrorname_np(err), ")"));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, std::move(pidfd)));
}

ChildProcess::~ChildProcess() {
  if (!reaped_.load()) {
    KillWithDescendants();
    WaitForExit(absl::InfiniteFuture());  // SIGKILL cannot be ignored: bounded
  }
}

bool ChildProcess::Signal(int sig) {
  if (reaped_.load()) return false;
  // pidfd_send_signal cannot hit a recycled pid, even racing with a reap.
  return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) == 0;
}

void ChildProcess::KillWithDescendants() {
  if (!Signal(SIGSTOP)) return;
  // The stop is complete once the whole thread group has stopped; waitid
  // with WNOWAIT reports that without consuming anything a reap needs.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(500);
  while (absl::Now() < deadline && !PidfdReadable(pidfd_.get())) {
    siginfo_t si{};
    const int r =
        ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &si, WSTOPPED | WNOHANG | WNOWAIT);
    if (r == 0 && si.si_pid != 0) break;
    if (r < 0 && errno != EINTR) break;  // ECHILD: reaped by someone else
    ::usleep(1000);
  }
  // Stopped and not exited, hence not reaped: its pid, and so the /proc
  // tree read under it, are still its own. (Someone else's SIGKILL racing
  // with this check is the one window left.)
  if (!reaped_.load() && !PidfdReadable(pidfd_.get())) KillDescendants(pid_);
  Signal(SIGKILL);
}

std::optional<ExitInfo> ChildProcess::TryReap() {
  if (reaped_.load()) return std::nullopt;
  // waitid on the pidfd cannot reap a recycled pid that became another
  // child of ours after someone else reaped this one.
  siginfo_t si{};
  int r;
  do {
    r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &si, WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0 && si.si_pid != 0) {
    reaped_.store(true);
    return FromSigInfo(si);
  }
  if (r < 0 && errno == ECHILD && PidfdReadable(pidfd_.get())) {
    // Gone, but not reaped by us: SIGCHLD is SIG_IGN (the kernel reaped
    // it) or the application waited for it.
    reaped_.store(true);
    ExitInfo info;
    info.status_unknown = true;
    return info;
  }
  return std::nullopt;  // still running
}

std::optional<ExitInfo> ChildProcess::WaitForExit(absl::Time deadline) {
  while (true) {
    if (auto info = TryReap()) return info;
    if (reaped_.load()) return std::nullopt;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    pollfd pfd{pidfd_.get(), POLLIN, 0};
    const int timeout_ms =
        deadline == absl::InfiniteFuture() ? -1 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    if (::poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0) {
      // Exited. The reap just above normally succeeds now; should the
      // kernel not yet let us wait for it, back off instead of spinning
      // on a pidfd that stays readable.
      if (auto info = TryReap()) return info;
      if (reaped_.load()) return std::nullopt;
      ::usleep(1000);
    }
  }
}

}  // namespace snakepit::internal
