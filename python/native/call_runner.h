// CallRunner: what the gRPC side of the native server asks of the Python
// side. The gRPC side knows nothing of Python; it calls these without the
// GIL, and each implementation takes the GIL itself, only for as long as it
// touches Python objects. Taking the GIL may wait behind a handler, so none
// of these is ever called on the gRPC polling thread: Execute runs on
// handler threads, Stats on the Stats thread (StatsCache).
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "native/execute_call.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

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
  // reply with its traceback.
  virtual bool Execute(ExecuteCall& call, v1::ExecuteResponse& reply) = 0;

  // Fills `response` with what Python reports (every field; StatsCache
  // replaces pid, uptime_s and the counters by live values); a non-OK
  // status (UNKNOWN) when Python failed. Waits for the GIL.
  virtual grpc::Status Stats(v1::StatsResponse& response) = 0;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_RUNNER_H_
