// CallRunner: what the gRPC side of the native server asks of the Python
// side. The gRPC side knows nothing of Python; it calls these without the
// GIL, and each implementation takes the GIL itself, only for as long as it
// touches Python objects. Taking the GIL may wait behind a handler, so none
// of these is ever called on the gRPC polling thread: Execute and
// OpenStream (and the ChunkSource) run on handler threads, Stats on the
// Stats thread (StatsCache), Cancel on the Cancel thread (Canceller).
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_

#include <cstdint>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "native/call_request.h"
#include "native/held_attachments.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// The command of one ExecuteStream call, opened on a handler thread and
// used by it only. Destroying it takes the GIL.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;

  // Makes the next message (waiting for the command): a chunk, returning
  // true, or the end (its ExecuteResponse with call_id and timing),
  // returning false; never called after the end. Never throws: a failure
  // of the glue becomes an EXCEPTION end. With `held`, a chunk's large
  // attachments are held there instead of copied into `message`
  // (held_attachments.h, as CallRunner::Execute).
  virtual bool Next(v1::StreamMessage& message, HeldAttachments* held) = 0;

  // The RPC ended before the command did (the client went away, or the
  // worker stops): the call is marked cancelled and its generator closed.
  // Nothing after an end.
  virtual void Close() = 0;
};

class CallRunner {
 public:
  // Held by a handler thread, or the Stats thread, from its start to its
  // end (RAII).
  class ThreadScope {
   public:
    virtual ~ThreadScope() = default;
  };

  virtual ~CallRunner() = default;

  // Prepares the calling thread to call Execute or Stats (attaches it to
  // the interpreter once, for its lifetime); it ends with the returned
  // scope.
  virtual std::unique_ptr<ThreadScope> AttachThread() = 0;

  // Runs `call` on a handler thread and writes its reply into `reply`.
  // Returns false, leaving `reply` alone, when the call was finished
  // (cancelled by a stop) before it could be read: nothing to answer.
  // Never throws: a failure of the Python glue becomes an EXCEPTION error
  // reply with its traceback. With `held`, large result attachments are
  // held there, in order, instead of copied into `reply`
  // (held_attachments.h): a front end that can send them from Python's
  // buffers passes one.
  virtual bool Execute(CallRequest& call, v1::ExecuteResponse& reply, HeldAttachments* held) = 0;

  // Opens the command of `call` on a handler thread; null when the call was
  // finished (cancelled by a stop) before it could be read. A call that
  // cannot start (BUSY, UNKNOWN_COMMAND, ...) gives a source whose first
  // message is the end.
  virtual std::unique_ptr<ChunkSource> OpenStream(CallRequest& call) = 0;

  // Marks call `call_id` cancelled in Python (a Cancel, or the client
  // ending the RPC): its on_cancel callbacks run on this thread. Waits for
  // the GIL. Never throws; a failure is logged.
  virtual void Cancel(std::uint64_t call_id, bool deadline_exceeded) = 0;

  // Fills `response` with what Python reports (every field; StatsCache
  // replaces pid, uptime_s and the counters by live values); a non-OK
  // status (UNKNOWN) when Python failed. Waits for the GIL.
  virtual grpc::Status Stats(v1::StatsResponse& response) = 0;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_
