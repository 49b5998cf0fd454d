// The Execute RPCs of the native server that have arrived and are not done
// yet (their reply, or error, not yet sent): what a stop drains and, after
// the grace period, cancels.
#ifndef SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_
#define SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_

#include <memory>
#include <unordered_map>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/execute_call.h"

namespace snakepit::native {

// Thread-safe.
class OpenCalls {
 public:
  OpenCalls() = default;
  OpenCalls(const OpenCalls&) = delete;
  OpenCalls& operator=(const OpenCalls&) = delete;

  // Registers `call`; false (and nothing registered) once Close() was called.
  bool Add(std::shared_ptr<ExecuteCall> call);
  // Unregisters `call`; a call that was never added is ignored.
  void Remove(const ExecuteCall* call);

  // Refuses every later Add.
  void Close();

  // Waits until no call is open, or `deadline`; true if none is.
  bool WaitEmpty(absl::Time deadline);

  // Ends every open call that is still running with `status`.
  void FailAll(const grpc::Status& status);

 private:
  bool Empty() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_.empty(); }

  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::unordered_map<const ExecuteCall*, std::shared_ptr<ExecuteCall>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_
