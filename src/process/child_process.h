// ChildProcess: a spawned process that this object owns until it is reaped.
//
// Ownership: the destructor SIGKILLs a still-running child and reaps it, so
// no ChildProcess leaves a zombie or an orphan behind.
// Exit is known from the pidfd, never from SIGCHLD or from who reaps: the
// library works whatever the application's SIGCHLD disposition, and when
// the application reaps our child itself (waitpid(-1)) the exit is still
// seen, with ExitInfo::status_unknown set. Nothing here busy-waits.
// Threading: Signal() and pid() may be called from any thread; Reap() and
// WaitForExit() are meant for one watcher thread at a time.
#ifndef SNAKEPIT_SRC_PROCESS_CHILD_PROCESS_H_
#define SNAKEPIT_SRC_PROCESS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace snakepit::internal {

// How a process ended.
struct ExitInfo {
  int exit_code = -1;  // valid when signal == 0 and !status_unknown
  int signal = 0;      // the terminating signal, 0 if it exited normally
  // The process has exited but its status could not be had: someone else
  // reaped it (the application set SIGCHLD to SIG_IGN, or called
  // waitpid(-1)). exit_code stays -1 and signal 0.
  bool status_unknown = false;
  // Set: what ended a worker that is no process of ours (a remote worker
  // ejected from its pool); ToString() returns it.
  std::string detail = {};
  // "exit status 3" / "killed by signal 9 (SIGKILL)" /
  // "exit status unknown: reaped by someone else"
  std::string ToString() const;
};

struct SpawnRequest {
  std::string executable;         // path, or a bare name looked up on PATH
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // complete environment, "KEY=value"
  // Parent fds to place at the given child fd numbers (child fd >= 3).
  // Everything else the parent has open is close-on-exec and not inherited.
  std::vector<std::pair<int, int>> fds;
  int output_fd = -1;  // becomes the child's stdout and stderr; -1: /dev/null
};

class ChildProcess {
 public:
  // Spawns with posix_spawn. stdin is /dev/null, the signal mask is empty,
  // all signal dispositions are reset to default, and the child gets its own
  // process group (a terminal's Ctrl-C goes to the host, which stops workers
  // itself). NOT_FOUND if the executable does not exist.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const SpawnRequest& request);

  // Takes ownership of `pid`, a child of this process that another process
  // created: a worker forked by a template with clone(CLONE_PARENT)
  // (python/snakepit_worker/sibling_fork.py). From here on it is owned
  // exactly like a spawned child, exit status included.
  // FAILED_PRECONDITION if `pid` is not a child of this process (it was
  // never one, or it has already been reaped).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Adopt(pid_t pid);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Readable (POLLIN) once the process has exited. Owned by this object.
  int pidfd() const { return pidfd_.get(); }

  // Sends `sig` unless the process was already reaped. Returns false if it
  // was reaped (so the pid can never hit a recycled process).
  bool Signal(int sig);

  // SIGKILLs the process and every descendant it has (process_tree.h):
  // SIGSTOPs it, waits (up to 500 ms) until it has stopped, so that it can
  // neither fork nor reap, kills its descendants, then SIGKILLs it. With a
  // Python worker, a child subreaper, the descendants include processes
  // that left its session or process group, and orphans re-parented to it.
  // Does not reap; a no-op once reaped. Thread-safe like Signal(). Limit:
  // descendants that were re-parented away before the call (the worker was
  // killed by someone else first) are not found.
  void KillWithDescendants();

  // Reaps the process if it has exited; nullopt while it runs (and once it
  // has been reaped). If someone else reaped it, the ExitInfo has
  // status_unknown set.
  std::optional<ExitInfo> TryReap();

  // Blocks until exit or `deadline`, sleeping on the pidfd; reaps. nullopt
  // on timeout or if it was already reaped.
  std::optional<ExitInfo> WaitForExit(absl::Time deadline);

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}

  const pid_t pid_;
  UniqueFd pidfd_;
  std::atomic<bool> reaped_{false};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROCESS_CHILD_PROCESS_H_
