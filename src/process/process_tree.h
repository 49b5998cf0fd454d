// The descendants of a process, read from /proc, and a way to kill a whole
// tree so that none of it outlives a worker.
//
// A worker's adapter may start processes of its own (subprocess.Popen,
// multiprocessing), even in a new session or process group. The Python
// worker makes itself a child subreaper (PR_SET_CHILD_SUBREAPER), so an
// orphaned descendant is re-parented to the worker instead of to init and
// stays in the worker's tree for as long as the worker lives. That tree is
// what these functions walk: /proc/<pid>/task/<tid>/children of every
// thread, recursively.
#ifndef SNAKEPIT_SRC_PROCESS_PROCESS_TREE_H_
#define SNAKEPIT_SRC_PROCESS_PROCESS_TREE_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace snakepit::internal {

// A tree larger than this is not a healthy worker; a walk stops after this
// many descendants (breadth-first), which bounds its work.
inline constexpr int kMaxDescendants = 4096;

// The descendants of `pid` (not `pid` itself), breadth-first, each once even
// if /proc lists it twice or in a cycle. A process that exits while being
// read is skipped with its children. An empty list when `pid` is gone or has
// no children. PERMISSION_DENIED or INTERNAL, naming the file, when a file
// cannot be read or parsed. Not atomic: a process forked meanwhile may be
// missed (KillDescendants stops the tree first for that reason).
// Thread-safe; `proc_root` exists for tests.
absl::StatusOr<std::vector<pid_t>> ListDescendants(pid_t pid, const std::string& proc_root = "/proc");

// What KillDescendants needs from the system; the real one signals with
// kill(2) and reads /proc, a test's records the signals.
class ProcessSignaller {
 public:
  virtual ~ProcessSignaller() = default;
  virtual absl::StatusOr<std::vector<pid_t>> Descendants(pid_t pid) = 0;
  virtual void Signal(pid_t pid, int sig) = 0;
};

// kill(2) and ListDescendants over /proc.
ProcessSignaller& SystemSignaller();

// SIGKILLs every descendant of `pid`, leaving `pid` itself alone. Contract:
// `pid` must be stopped (SIGSTOP) or otherwise unable to reap or fork while
// this runs, and must stay unreaped: then no pid in its tree can be
// recycled under us. Each descendant found is SIGSTOPped at once, and the
// tree is listed again until a listing finds nobody new (at most 64
// passes), so a process forking in a loop cannot outrun the walk; then all
// are SIGKILLed. A stopped process never runs again, so nothing escapes
// between the last listing and the kill. Returns how many were killed.
int KillDescendants(pid_t pid, ProcessSignaller& system = SystemSignaller());

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROCESS_PROCESS_TREE_H_
