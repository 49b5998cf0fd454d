// Memory of a Linux process tree, read from /proc: what the lifecycle
// manager compares with worker_max_memory_mb to recycle a Python worker.
//
// Why the limit uses PSS rather than RSS: PSS splits every shared page
// (shared libraries, the interpreter's text, shared memory) between the
// processes that map it, so the PSS of a pool's workers sums to the pool's
// real footprint, while a leak in one worker is private memory that shows in
// full in that worker's PSS. RSS would charge every worker for all of its
// shared pages in full, so a limit on it would recycle healthy workers for
// memory they do not own. RSS is still reported, for logs and metrics.
#ifndef SNAKEPIT_SRC_LIFECYCLE_PROC_MEMORY_H_
#define SNAKEPIT_SRC_LIFECYCLE_PROC_MEMORY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace snakepit::internal {

// A tree larger than this is not a healthy worker; only its first
// kMaxTreeProcesses processes (breadth-first from the root) are measured,
// which bounds the work of one reading and makes the figures a lower bound.
inline constexpr int kMaxTreeProcesses = 4096;

struct ProcessMemory {
  std::int64_t rss_bytes = 0;  // sum over the tree of Rss from smaps_rollup
  std::int64_t pss_bytes = 0;  // sum over the tree of Pss from smaps_rollup
  int processes = 0;           // how many processes were measured (the root + descendants)
};

// Memory of process `pid` and all its descendants, found through
// <proc_root>/<pid>/task/<tid>/children of every thread, recursively. Each
// pid is measured once even if the tree lists it twice or in a cycle. A
// descendant that exits while being read is skipped, not an error.
//
// NOT_FOUND, naming the pid, if `pid` itself does not exist or has no memory
// to measure (a zombie). Any other failure to read or parse a file is
// PERMISSION_DENIED or INTERNAL, naming the file.
//
// The reading is not atomic: a process forked or exiting meanwhile may be
// counted or not. Thread-safe; no shared state. `proc_root` exists for tests.
absl::StatusOr<ProcessMemory> ReadProcessTreeMemory(int pid, const std::string& proc_root = "/proc");

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_PROC_MEMORY_H_
