// Per-call options and results.
#ifndef SNAKEPIT_CALL_H_
#define SNAKEPIT_CALL_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/export.h"

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

// Buffers for large attachments, to move into CallOptions::attachments.
// A fresh buffer of many MiB is written through one page fault per 4 KiB
// page, which on a virtual machine can cost more than the call itself
// (64 MiB: 16,384 faults, about 210 ms on the 2-vCPU VM of
// docs/performance.md, against 14 ms with huge pages). From 4 MiB up these
// ask the kernel for transparent huge pages (MADV_HUGEPAGE) before the
// first write; where the kernel has none, or refuses, they are ordinary
// strings. Thread-safe; nothing throws: RESOURCE_EXHAUSTED when the memory
// cannot be had.
//
// An empty string with room for `size` bytes, not yet written: append the
// attachment's bytes (no reallocation up to `size`). INVALID_ARGUMENT for a
// size no std::string can hold.
[[nodiscard]] SNAKEPIT_EXPORT absl::StatusOr<std::string> ReserveAttachment(std::size_t size);
// A copy of `bytes` in such a buffer: for data the caller keeps.
[[nodiscard]] SNAKEPIT_EXPORT absl::StatusOr<std::string> CopyAttachment(std::string_view bytes);

struct SNAKEPIT_EXPORT CallOptions {
  // Deadline for the whole call, queueing included. Zero means the pool's
  // call_timeout. The caller gets DEADLINE_EXCEEDED when it passes; a reply
  // that arrives later is discarded and never handed to another caller.
  std::chrono::milliseconds timeout{0};

  // Binary blobs sent alongside the JSON args (the adapter reads them from
  // current_call().attachments). Default: none. (The "= {}" lets callers
  // write CallOptions{.timeout = 2s} without -Wmissing-field-initializers.)
  // Move large buffers in: attachments.push_back(std::move(buffer)). A
  // braced list, `.attachments = {std::move(buffer)}`, copies each buffer,
  // because std::initializer_list's elements are const.
  std::vector<std::string> attachments = {};

  // The command may safely run more than once. If the worker running it
  // dies (UNAVAILABLE), the router then runs it again on another worker, up
  // to max_attempts runs in all, all within the call's deadline. Calls that
  // are not idempotent are never retried: their caller gets the
  // UNAVAILABLE. Default: false.
  bool idempotent = false;
  int max_attempts = 3;  // with idempotent; at least 1

  // Cancels the call when stop is requested on it (std::stop_source):
  // queued, it leaves the queue; running, its caller gets CANCELLED at once
  // and the worker is asked to stop it (current_call().cancelled, the
  // on_cancel callbacks, GeneratorExit at a generator's next yield). The
  // call keeps its slot until the worker has really finished it; a worker
  // that ignores the cancel for call_kill_timeout is killed and replaced.
  // Works for execute, call, execute_async and execute_stream. A stop
  // requested before submission cancels at once. Default: none.
  std::stop_token stop_token = {};

  // Streams only: chunks the host may hold for the reader before it stops
  // reading from the worker (gRPC flow control then pauses the generator).
  // 0: the pool's stream_buffer. Default: 0.
  int stream_buffer = 0;

  // String key/values carried to the worker with the call; the adapter
  // reads them as current_call().metadata. A W3C "traceparent" among them
  // continues the caller's trace in Python, and its trace id tags the
  // call's request_executed event and the call's log lines
  // (docs/tracing.md). Keys are lower-case HTTP header names, values
  // printable ASCII; at most 64 entries, 4 KiB a value, 16 KiB in all.
  // Anything else fails the call with INVALID_ARGUMENT. Default: none.
  std::map<std::string, std::string> metadata = {};

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

// One chunk of a stream: what a generator command yielded.
struct SNAKEPIT_EXPORT Chunk {
  nlohmann::json data;
  // Binary blobs yielded with snakepit_worker.Reply(...) (or Chunk(...)).
  std::vector<std::string> attachments;
};

// What a command returned.
struct SNAKEPIT_EXPORT Reply {
  nlohmann::json result;
  // Binary blobs the command returned with snakepit_worker.Reply(...).
  std::vector<std::string> attachments;
  // As the worker measured it: how long the adapter method ran, and the
  // CPU time its thread used meanwhile (time.thread_time_ns). A CPU time
  // well below the run time means the call waited: for I/O, a lock, or the
  // GIL. The CPU clock costs a system call, so calls under 100 µs are
  // sampled: one in 16 is measured and the others report their run time
  // times its CPU share (docs/worker-protocol.md, Timing). Zero when the
  // worker does not report them, or did not measure a call of 100 µs or
  // more.
  std::chrono::nanoseconds python_time{0};
  std::chrono::nanoseconds python_cpu_time{0};
};

// A Python exception raised by a command. The absl::Status of such a call
// has code UNKNOWN, the message
//   "<pool>-<worker id>: command '<command>': <type>: <message>\n<traceback>"
// (no newline and traceback when the traceback is empty), and this record
// as a payload.
struct SNAKEPIT_EXPORT PythonError {
  std::string type;       // e.g. "ValueError" or "mymodule.MyError"
  std::string message;    // str(exception)
  std::string traceback;  // the formatted Python traceback
};

// The Python exception carried by `status`, if it came from one.
SNAKEPIT_EXPORT std::optional<PythonError> GetPythonError(const absl::Status& status);

}  // namespace snakepit

#endif  // SNAKEPIT_CALL_H_
