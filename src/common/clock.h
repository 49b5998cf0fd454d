// Clock: the time source, timer and timed waits of the policy code (the
// call router, the worker supervisor, the lifecycle manager), behind one
// interface so that tests drive that code with a fake clock in
// milliseconds instead of sleeping through real timeouts.
//
// Threading: every method is thread-safe. Timer callbacks run on a thread
// of the clock's choosing with no lock of the clock held; they may take
// other locks and call Schedule/Cancel, and must be short. A callback may
// still run after Cancel() if it had already been taken for running.
#ifndef SNAKEPIT_SRC_COMMON_CLOCK_H_
#define SNAKEPIT_SRC_COMMON_CLOCK_H_

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/deadline_timer.h"
#include "common/mutex.h"

namespace snakepit::internal {

class Clock {
 public:
  using TimerHandle = DeadlineTimer::Handle;

  virtual ~Clock() = default;

  virtual absl::Time Now() const = 0;

  // Runs `fn` once at `when` (an infinite `when` schedules nothing and
  // returns an empty handle).
  virtual TimerHandle Schedule(absl::Time when, std::function<void()> fn) = 0;
  virtual void Cancel(const TimerHandle& handle) = 0;

  // REQUIRES: `mu` is held; it is released while waiting. Returns once
  // `cond` holds (true) or this clock reaches `deadline` (false).
  virtual bool AwaitUntil(Mutex* mu, const Condition& cond, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

// The real clock: absl::Now(), a DeadlineTimer thread of its own, and the
// mutex's own timed wait.
class RealClock final : public Clock {
 public:
  RealClock() = default;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  absl::Time Now() const override;
  TimerHandle Schedule(absl::Time when, std::function<void()> fn) override {
    return timer_.Schedule(when, std::move(fn));
  }
  void Cancel(const TimerHandle& handle) override { timer_.Cancel(handle); }
  bool AwaitUntil(Mutex* mu, const Condition& cond, absl::Time deadline) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return mu->AwaitWithDeadline(cond, deadline);
  }

 private:
  DeadlineTimer timer_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_CLOCK_H_
