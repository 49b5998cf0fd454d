// Per-call options and results.
#ifndef SNAKEPIT_CALL_H_
#define SNAKEPIT_CALL_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace snakepit {

// How a call with an affinity key picks its worker (docs/elastic.md).
enum class Affinity {
  // The worker that last served the key if it has a free slot, else any
  // worker (which then serves the key from now on).
  kHint,
  // The worker that last served the key: the call waits for one of its
  // slots, within the call's deadline and queue_timeout.
  kStrict,
  // As kStrict, but a call whose worker has no free slot fails at once
  // with RESOURCE_EXHAUSTED instead of waiting.
  kStrictFailFast,
};

struct CallOptions {
  // Deadline for the whole call, queueing included. Zero means the pool's
  // call_timeout. The caller gets DEADLINE_EXCEEDED when it passes; a reply
  // that arrives later is discarded and never handed to another caller.
  std::chrono::milliseconds timeout{0};

  // Binary blobs sent alongside the JSON args (the adapter reads them from
  // current_call().attachments). Default: none. (The "= {}" lets callers
  // write CallOptions{.timeout = 2s} without -Wmissing-field-initializers.)
  std::vector<std::string> attachments = {};

  // The command may safely run more than once. If the worker running it
  // dies (UNAVAILABLE), the router then runs it again on another worker, up
  // to max_attempts runs in all, all within the call's deadline. Calls that
  // are not idempotent are never retried: their caller gets the
  // UNAVAILABLE. Default: false.
  bool idempotent = false;
  int max_attempts = 3;  // with idempotent; at least 1

  // Affinity: calls with the same key (a session or model id) go to the
  // same worker, so that state the adapter keeps per key is there (see
  // examples/session_affinity). A key is bound to the worker that last
  // served it; when that worker leaves (recycled, scaled down, dead) the
  // key re-homes: its next call goes to any worker and binds there, in
  // every mode. The pool remembers affinity_max_keys keys (least recently
  // used forgotten first). Default: no key (any worker); kHint.
  std::string affinity_key = {};
  Affinity affinity = Affinity::kHint;
};

// What a command returned.
struct Reply {
  nlohmann::json result;
  // Binary blobs the command returned with snakepit_worker.Reply(...).
  std::vector<std::string> attachments;
  // As the worker measured it: how long the adapter method ran, and the
  // CPU time its thread used meanwhile (time.thread_time_ns). A CPU time
  // well below the run time means the call waited: for I/O, a lock, or the
  // GIL. Zero when the worker does not report them.
  std::chrono::nanoseconds python_time{0};
  std::chrono::nanoseconds python_cpu_time{0};
};

// A Python exception raised by a command. The absl::Status of such a call
// has code UNKNOWN, a message "<type>: <message>" followed by the traceback,
// and this record as a payload.
struct PythonError {
  std::string type;       // e.g. "ValueError" or "mymodule.MyError"
  std::string message;    // str(exception)
  std::string traceback;  // the formatted Python traceback
};

// The Python exception carried by `status`, if it came from one.
std::optional<PythonError> GetPythonError(const absl::Status& status);

}  // namespace snakepit

#endif  // SNAKEPIT_CALL_H_
