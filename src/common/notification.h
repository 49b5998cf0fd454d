// Notification: a one-shot event, absl::Notification's interface on the
// project's Mutex (common/mutex.h), for the same reason as that Mutex:
// absl::Notification synchronizes inside the uninstrumented Abseil library,
// so ThreadSanitizer would not see that what the notifier wrote before
// Notify() happens before what a waiter reads after its wait returns.
//
// Threading: every method is thread-safe. Notify() may be called more than
// once (absl's may not); the later calls do nothing. Destroying the
// Notification while a thread waits on it is undefined; destroying it once
// every wait has returned is fine.
#ifndef SNAKEPIT_SRC_COMMON_NOTIFICATION_H_
#define SNAKEPIT_SRC_COMMON_NOTIFICATION_H_

#include <atomic>

#include "absl/time/time.h"
#include "common/mutex.h"

namespace snakepit::internal {

class Notification {
 public:
  Notification() = default;
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  void Notify() {
    MutexLock lock(&mu_);
    notified_.store(true, std::memory_order_release);
  }
  // Lock-free.
  bool HasBeenNotified() const { return notified_.load(std::memory_order_acquire); }

  void WaitForNotification() const {
    MutexLock lock(&mu_);
    mu_.Await(Condition(this));
  }
  // These return whether it has been notified (false: the time ran out).
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(Condition(this), timeout);
  }
  bool WaitForNotificationWithDeadline(absl::Time deadline) const {
    MutexLock lock(&mu_);
    return mu_.AwaitWithDeadline(Condition(this), deadline);
  }

 private:
  friend class Condition;  // Condition(this) calls operator()
  bool operator()() const { return HasBeenNotified(); }

  mutable Mutex mu_;
  std::atomic<bool> notified_{false};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_NOTIFICATION_H_
