// RunAndCapture: runs a short-lived helper process (the Python environment
// probe) to completion and returns its output.
#ifndef SNAKEPIT_SRC_PROCESS_RUN_CAPTURE_H_
#define SNAKEPIT_SRC_PROCESS_RUN_CAPTURE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "process/child_process.h"

namespace snakepit::internal {

struct CapturedRun {
  ExitInfo exit;
  std::string output;  // stdout and stderr, interleaved as written
};

// Spawns `request` (its output_fd is replaced by a pipe), reads its output
// until it exits, and reaps it. Output past `max_output` bytes is read and
// dropped, so a chatty child cannot block or exhaust memory. NOT_FOUND if
// the executable does not exist; DEADLINE_EXCEEDED (the child is killed and
// reaped) if it has not exited by `deadline`.
absl::StatusOr<CapturedRun> RunAndCapture(SpawnRequest request, absl::Time deadline,
                                          std::size_t max_output = std::size_t{16} << 20);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROCESS_RUN_CAPTURE_H_
