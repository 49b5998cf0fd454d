// ReplyWaiter: where a synchronous caller (PoolManager::execute and call)
// waits for its call's one result. The call's completion, on whichever
// thread finishes the call (the worker's reply, the deadline timer, a
// cancel, a refusal on the caller's own thread), moves the result in and
// wakes the caller directly: no promise and no shared state to allocate,
// and the reply and its attachments are moved, never copied.
//
// Lifetime: the caller's, on its stack. Fill() is called once (the router
// finishes every call exactly once); Wait() returns once Fill() has
// notified, after which Fill() touches nothing of the waiter, so it may be
// destroyed as soon as Wait() returns (Notification's contract).
// Threading: Fill() from any thread; Wait() from its owner, once.
#ifndef SNAKEPIT_SRC_POOL_REPLY_WAITER_H_
#define SNAKEPIT_SRC_POOL_REPLY_WAITER_H_

#include <utility>

#include "absl/status/statusor.h"
#include "common/notification.h"
#include "pool/call.h"
#include "snakepit/call.h"

namespace snakepit::internal {

class ReplyWaiter {
 public:
  // The call's completion: fills this waiter. It holds only a pointer, so
  // it fits std::function's inline storage: no allocation either.
  Call::Callback Completion() {
    return [this](absl::StatusOr<Reply> result) { Fill(std::move(result)); };
  }

  void Fill(absl::StatusOr<Reply> result) {
    result_ = std::move(result);
    filled_.Notify();  // publishes result_ to Wait() (a release under its mutex)
  }

  // Blocks until Fill(); bounded because the router finishes every call by
  // its deadline.
  absl::StatusOr<Reply> Wait() {
    filled_.WaitForNotification();
    return std::move(result_);
  }

 private:
  absl::StatusOr<Reply> result_;  // written once, before filled_ is notified
  Notification filled_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_REPLY_WAITER_H_
