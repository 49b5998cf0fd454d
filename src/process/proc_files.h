// Reading /proc: small files and the children of a process, with errors
// that say whether the process is gone. Shared by the process tree walker
// (process_tree.h) and the memory reader (lifecycle/proc_memory.h).
//
// Thread-safe; every function takes the /proc root so tests can use a fake
// one.
#ifndef SNAKEPIT_SRC_PROCESS_PROC_FILES_H_
#define SNAKEPIT_SRC_PROCESS_PROC_FILES_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snakepit::internal {

// A failed system call on `path` as a status: NOT_FOUND when the process (or
// thread) is gone, which callers treat as "skip", PERMISSION_DENIED, or
// INTERNAL for anything else.
absl::Status ProcFileError(int err, const std::string& what, const std::string& path);

// The whole of a /proc file (they are small: smaps_rollup, a pid list).
// Over 1 MiB is INTERNAL: not a /proc file.
absl::StatusOr<std::string> ReadProcFile(const std::string& path);

// Appends the children of every thread of `pid` to `out` (a child is listed
// under the thread that forked it), from <proc_root>/<pid>/task/*/children.
// A process or thread that is gone has no children. INTERNAL for a
// malformed pid, naming the file.
absl::Status AppendProcChildren(const std::string& proc_root, pid_t pid, std::vector<pid_t>& out);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROCESS_PROC_FILES_H_
