// The Execute and ExecuteStream RPCs of the native server that have
// arrived and are not done yet (their reply, or error, not yet sent): what
// a stop drains and, after the grace period, cancels, and what a Cancel
// looks for.
#ifndef SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_
#define SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace snakepit::native {

// An RPC that OpenCalls tracks. Both methods may be called from any
// thread, and after the call finished (then they do nothing).
class OpenCall {
 public:
  // Ends the call with `status` unless it is finished already.
  virtual void Fail(const grpc::Status& status) = 0;
  // A Cancel for the call arrived (Python is told separately, by the
  // Canceller): a stream sends no more chunks, and one waiting for its
  // reader gives up on it.
  virtual void CancelRequested(bool deadline_exceeded) = 0;

 protected:
  ~OpenCall() = default;
};

// Thread-safe.
class OpenCalls {
 public:
  OpenCalls() = default;
  OpenCalls(const OpenCalls&) = delete;
  OpenCalls& operator=(const OpenCalls&) = delete;

  // Registers `call`, whose request has id `call_id`; false (and nothing
  // registered) once Close() was called. A call whose Cancel came first
  // (see Cancel) is told of it at once.
  bool Add(std::shared_ptr<OpenCall> call, std::uint64_t call_id);
  // Unregisters `call`; a call that was never added is ignored.
  void Remove(const OpenCall* call);

  // Tells every open call of id `call_id` (0: none) that a Cancel came;
  // true if there was one. Else the id is remembered (the last
  // kEarlyCancels), for a call that the Cancel overtook.
  bool Cancel(std::uint64_t call_id, bool deadline_exceeded);

  static constexpr std::size_t kEarlyCancels = 1024;

  // Refuses every later Add.
  void Close();

  // Waits until no call is open, or `deadline`; true if none is.
  bool WaitEmpty(absl::Time deadline);

  // Ends every open call that is still running with `status`.
  void FailAll(const grpc::Status& status);

 private:
  struct Entry {
    std::shared_ptr<OpenCall> call;
    std::uint64_t call_id;
  };

  bool Empty() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_.empty(); }

  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::unordered_map<const OpenCall*, Entry> calls_ ABSL_GUARDED_BY(mu_);
  // Cancels that found no call: (call id, deadline exceeded), oldest first.
  std::deque<std::pair<std::uint64_t, bool>> early_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_OPEN_CALLS_H_
