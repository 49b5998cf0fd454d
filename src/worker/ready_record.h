// Reading the worker's one-line readiness record (docs/worker-protocol.md).
#ifndef SNAKEPIT_SRC_WORKER_READY_RECORD_H_
#define SNAKEPIT_SRC_WORKER_READY_RECORD_H_

#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

// Reads from `fd` until a newline, EOF or `deadline`. Returns the parsed
// JSON object; nullopt if the writer closed the pipe without a record (the
// process died first); DEADLINE_EXCEEDED on timeout; INTERNAL if the record
// is not a JSON object.
absl::StatusOr<std::optional<nlohmann::json>> ReadReadyRecord(int fd, absl::Time deadline);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_READY_RECORD_H_
