// PythonRunner: the native server's CallRunner. It calls two callables of
// WorkerCalls (python/snakepit_worker/calls.py) - execute, stats - and
// turns their results into protobuf messages. (BUSY replies are built in
// C++: WorkerService.)
//
// GIL: taken for exactly the time Python objects are touched. A handler
// thread, and the Stats thread, attach to the interpreter once
// (AttachThread) and keep their thread state, detached, between calls.
#ifndef SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_
#define SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_

#include <memory>

#include "native/call_runner.h"
#include "native/outcome.h"
#include "native/py_ref.h"

namespace snakepit::native {

class PythonRunner final : public CallRunner {
 public:
  // `execute(call_id, command, args_json, attachments, deadline_unix_ms,
  // metadata)` returns a dispatch.Outcome, `stats()` a dict. REQUIRES: the GIL. Null
  // with a Python error set on failure.
  static std::unique_ptr<PythonRunner> Create(PyObject* execute, PyObject* stats);

  // REQUIRES: the GIL, and no thread still using the runner.
  ~PythonRunner() override = default;

  std::unique_ptr<ThreadScope> AttachThread() override;
  bool Execute(ExecuteCall& call, v1::ExecuteResponse& reply) override;
  grpc::Status Stats(v1::StatsResponse& response) override;

 private:
  PythonRunner() = default;

  PyRef execute_, stats_;
  OutcomeReader outcome_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_PYTHON_RUNNER_H_
