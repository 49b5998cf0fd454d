// PythonRunner: the native server's CallRunner. It calls four callables of
// WorkerCalls (python/snakepit_worker/calls.py) - execute, execute_stream,
// cancel, stats - and turns their results into protobuf messages. (BUSY
// replies are built in C++: WorkerService.)
//
// GIL: taken for exactly the time Python objects are touched. A handler
// thread, and the Stats thread, attach to the interpreter once
// (AttachThread) and keep their thread state, detached, between calls.
#ifndef SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_
#define SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "native/call_runner.h"
#include "native/outcome.h"
#include "native/py_ref.h"

namespace snakepit::native {

class PythonRunner final : public CallRunner {
 public:
  // `execute(call_id, command, args_json, attachments, deadline_unix_ms,
  // metadata)` returns a dispatch.Outcome, `execute_stream(...)` (the
  // same arguments) a streams.StreamRun or EndedStream,
  // `cancel(call_id, deadline_exceeded)` a bool, `stats()` a dict.
  // `attachments` is a list of `attachment_type` objects (the module's
  // AttachmentBuffer type, attachment_buffer.h), each owning one of the
  // request's attachments, moved there from the request without a copy.
  // REQUIRES: the GIL. Null with a Python error set on failure.
  static std::unique_ptr<PythonRunner> Create(PyObject* execute, PyObject* execute_stream, PyObject* cancel,
                                              PyObject* stats, PyObject* attachment_type);

  // REQUIRES: the GIL, and no thread still using the runner.
  ~PythonRunner() override = default;

  std::unique_ptr<ThreadScope> AttachThread() override;
  bool Execute(CallRequest& call, v1::ExecuteResponse& reply, HeldAttachments* held) override;
  std::unique_ptr<ChunkSource> OpenStream(CallRequest& call) override;
  void Cancel(std::uint64_t call_id, bool deadline_exceeded) override;
  grpc::Status Stats(v1::StatsResponse& response) override;

 private:
  PythonRunner() = default;

  // Reads `call` (and takes its attachments) to build the arguments of
  // `callable` and calls it: its result, null with a Python error set
  // when that failed, or nullopt when the call was finished before it
  // could be read. REQUIRES: the GIL.
  std::optional<PyRef> CallWithRequest(PyObject* callable, CallRequest& call, std::uint64_t* call_id);

  PyRef execute_, execute_stream_, cancel_, stats_;
  PyRef attachment_type_;  // AttachmentBuffer
  OutcomeReader outcome_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_
