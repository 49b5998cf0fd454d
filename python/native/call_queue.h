// CallQueue: the native server's completion queue. Every gRPC event of the
// server - an RPC arriving, a reply sent - is a Tag on it, run by the
// threads that Poll it.
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_QUEUE_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_QUEUE_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace snakepit::native {

// One pending event. Done runs on a polling thread, once per operation the
// tag was given to; `ok` is false when the operation failed or the server
// is shutting down.
class Tag {
 public:
  virtual void Done(bool ok) = 0;

 protected:
  ~Tag() = default;
};

// Thread-safe.
class CallQueue {
 public:
  explicit CallQueue(std::unique_ptr<grpc::ServerCompletionQueue> queue) : queue_(std::move(queue)) {}
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  // Runs `start`, which starts one operation whose tag is a Tag on the
  // queue it is given, unless the queue is shut down; false if it is (and
  // nothing ran). Operations must not start on a shut-down queue.
  bool Start(absl::FunctionRef<void(grpc::ServerCompletionQueue*)> start);

  // Runs events until the queue is shut down and drained. Waits at most a
  // second at a time.
  void Poll();

  // Refuses every later Start and shuts the queue down: Poll returns once
  // the events already queued ran. REQUIRES: the server has shut down.
  void Shutdown();

 private:
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  const std::unique_ptr<grpc::ServerCompletionQueue> queue_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_QUEUE_H_
