// HandlerJob: what a native handler thread runs, one at a time: an Execute
// call (ExecuteCall) or a whole stream (StreamCall).
#ifndef SNAKEPIT_PYTHON_NATIVE_HANDLER_JOB_H_
#define SNAKEPIT_PYTHON_NATIVE_HANDLER_JOB_H_

#include "absl/functional/function_ref.h"
#include "native/call_counters.h"

namespace snakepit::native {

class CallRunner;

class HandlerJob {
 public:
  // Runs the job through `runner` on a handler thread, counting it in
  // `counters`. Calls `idle` exactly once, as soon as the command is done
  // and before its last message is sent, so that a caller who sends its
  // next call when it receives the reply always finds a thread free.
  virtual void Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) = 0;

 protected:
  ~HandlerJob() = default;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_HANDLER_JOB_H_
