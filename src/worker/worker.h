// Worker: one worker process as the pool sees it.
//
// The pool holds Worker pointers and never asks how the worker was made or
// which profile made it: the profile shows only through capacity() and
// metadata(). PythonWorker (python_worker.h) is the implementation, a
// Python process reached over gRPC; the profiles (src/profile/) decide its
// environment and capacity. Tests substitute in-memory workers.
#ifndef SNAKEPIT_SRC_WORKER_WORKER_H_
#define SNAKEPIT_SRC_WORKER_WORKER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "snakepit/call.h"
#include "snakepit/config.h"

namespace snakepit::internal {

struct ExitInfo;

// One call as sent to a worker.
class ReplyWaiter;

struct WorkerCall {
  std::uint64_t call_id = 0;
  std::string command;
  std::string args_json;
  std::vector<std::string> attachments;
  std::map<std::string, std::string> metadata;  // ExecuteRequest.metadata
  // The caller's deadline, passed to Python for information. The router
  // enforces it; the RPC itself is bounded by `rpc_deadline`.
  absl::Time deadline = absl::InfiniteFuture();
  absl::Time rpc_deadline = absl::InfiniteFuture();
  // Set when a synchronous caller waits for this call's result: a
  // transport may offer to read the reply on the caller's thread
  // (ReplyWaiter::OfferPump, which refuses an offer from any other thread).
  // Not owned; valid until the call's done runs.
  ReplyWaiter* waiter = nullptr;
};

// Why the host asks a worker to stop a call (the Cancel RPC's reason).
enum class CancelReason { kCancelled, kDeadlineExceeded };

// Resumes reading a stream that its consumer paused (StreamHandlers).
class StreamControl {
 public:
  virtual ~StreamControl() = default;
  // Reads the next message if reading is paused; else makes the next pause
  // return at once. Thread-safe; never blocks; no-op once the stream ended.
  virtual void Resume() = 0;
};

// Receives one streaming call's messages, serially, on arbitrary threads.
struct StreamHandlers {
  // A chunk, in order. True: read the next message at once. False: pause
  // reading (gRPC flow control then pauses the worker) until Resume().
  std::function<bool(Chunk)> on_chunk;
  // Exactly once, after the last on_chunk: OK (an empty Reply with the
  // worker's timing) when the command finished, else as Execute's done.
  std::function<void(absl::StatusOr<Reply>)> on_end;
};

struct WorkerMetadata {
  std::string pool;
  int id = 0;
  int pid = 0;
  Profile profile = Profile::kProcess;
  std::string label;    // "<pool>-<id>", used in logs and errors
  std::string python;   // interpreter as configured
  std::string address;  // where it listens: "unix:/path" or "host:port"
  // What carries its calls: "shm" (shared memory, the native server for
  // the rest), "native" or "grpcio" (gRPC to that server); "grpc" for a
  // remote worker. Empty until it started.
  std::string transport;
  // Why a worker that could have had the shared-memory data plane (pool
  // transport "auto" or "shm") does not; empty otherwise.
  std::string transport_note;
  std::string python_version;
  bool free_threaded = false;
  bool gil_enabled = true;
  // Thread-safety-matrix libraries loaded after setup: name -> version.
  std::map<std::string, std::string> loaded_libraries;
  absl::Time started_at = absl::InfinitePast();
  // Forked from a template (whose pid this was), not spawned.
  bool forked = false;
  int template_pid = 0;
};

class Worker {
 public:
  // Called once, from the worker's watcher thread, when the process exits
  // for any reason (after Stop() too). Must not block.
  using ExitCallback = std::function<void(const ExitInfo&)>;
  // Called exactly once per Execute, on an arbitrary thread. Must not block.
  using Done = std::function<void(absl::StatusOr<Reply>)>;

  virtual ~Worker() = default;

  // Spawns the process and blocks until it is ready to take calls or
  // `deadline` passes. On error the process is gone and the status carries
  // the Python error or the process output. Call once.
  [[nodiscard]] virtual absl::Status Start(absl::Time deadline) = 0;

  // SIGTERM, then SIGKILL after `grace`; returns once the process is
  // reaped. Calls still in flight fail with UNAVAILABLE. Idempotent.
  virtual void Stop(absl::Duration grace) = 0;

  // Sends one call. Never blocks. If the worker dies, `done` gets
  // UNAVAILABLE promptly; otherwise the reply, or DEADLINE_EXCEEDED once
  // call.rpc_deadline passes.
  virtual void Execute(WorkerCall call, Done done) = 0;

  // Sends one streaming call (ExecuteStream). Never blocks; handlers as
  // StreamHandlers says, with the same end guarantees as Execute's done.
  // The returned control stays valid until after on_end.
  virtual std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers) = 0;

  // Asks the worker to stop call `call_id` (the Cancel RPC), without
  // waiting for the answer; the call's own RPC ends when the worker has
  // really stopped it. A worker that is gone or does not know the call
  // ignores it. Never blocks.
  virtual void Cancel(std::uint64_t call_id, CancelReason reason) = 0;

  // SIGKILLs the process now and returns without waiting; the exit is
  // reported through the ExitCallback as usual, and calls in flight fail
  // with UNAVAILABLE. No-op once the process is gone. Must not run
  // concurrently with Stop() or the destructor.
  virtual void Kill() = 0;

  // Health probe: `done` gets OK if the worker answers "serving" by
  // `deadline`, UNAVAILABLE otherwise (also at once if it is dead). Never
  // blocks; `done` runs exactly once, on an arbitrary thread, and must not
  // block.
  virtual void CheckHealth(absl::Time deadline, std::function<void(absl::Status)> done) = 0;

  // The worker's own report (its Stats RPC, with the diagnostics_json
  // object parsed under "diagnostics"). `done` as for CheckHealth:
  // UNAVAILABLE if the worker is dead or does not answer by `deadline`.
  virtual void Diagnostics(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) = 0;

  // Asks the worker for every thread's Python stack and waits for the
  // answer until `deadline`; empty if it is gone or gives none by then.
  // Blocks (up to `deadline`): call it from a thread that may wait. Must
  // not run concurrently with Stop() or the destructor.
  virtual std::string DumpStacks(absl::Time deadline) = 0;

  // Concurrent calls this worker accepts.
  virtual int capacity() const = 0;
  virtual WorkerMetadata metadata() const = 0;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_WORKER_H_
