// DeadlineTimer: runs callbacks at given times on one internal thread.
//
// Cost: the thread sleeps until the earliest deadline it knows of, and
// Schedule() wakes it only for a deadline earlier than that; Cancel() never
// wakes it. Arming and disarming a deadline that is not the earliest (the
// router arms one per call, nearly always later than the one before) is
// a map insert or erase under the mutex: no wake-up, no system call. A
// cancelled earliest deadline costs one wake-up, at its time, after which
// the thread sleeps until the next one.
//
// Threading: Schedule() and Cancel() are thread-safe and never block on a
// running callback. Callbacks run on the timer thread with no timer lock
// held, so they may take other locks (and may call Schedule/Cancel); they
// must be short. A callback may still run after Cancel() if it had already
// been taken for running: callbacks must tolerate that.
// Lifetime: the destructor drops pending callbacks and joins the thread.
#ifndef SNAKEPIT_SRC_COMMON_DEADLINE_TIMER_H_
#define SNAKEPIT_SRC_COMMON_DEADLINE_TIMER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace snakepit::internal {

class DeadlineTimer {
 public:
  struct Handle {
    absl::Time when = absl::InfiniteFuture();
    std::uint64_t id = 0;  // 0: nothing scheduled
  };

  // How the timer's thread tells the time and sleeps. The default is the
  // real clock; tests pass a fake one (tests/cpp/deadline_timer_test.cc).
  class TimeSource {
   public:
    virtual ~TimeSource() = default;
    virtual absl::Time Now() = 0;
    // REQUIRES: `mu` is held; it is released while sleeping. Returns once
    // `cv` is signalled or this source reaches `until` (never, for an
    // infinite one), or spuriously: the caller re-checks.
    virtual void SleepUntil(Mutex* mu, CondVar* cv, absl::Time until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
  };

  // What the thread did so far (tests and diagnostics).
  struct Counters {
    std::uint64_t signals = 0;  // wake-ups asked by Schedule (an earlier deadline)
    std::uint64_t wakeups = 0;  // returns from sleep, for any reason
    std::uint64_t fired = 0;    // callbacks run
  };

  // `time` null: the real clock. A given source must outlive the timer.
  explicit DeadlineTimer(TimeSource* time = nullptr);
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // An infinite `when` schedules nothing and returns an empty handle.
  Handle Schedule(absl::Time when, std::function<void()> fn);
  void Cancel(const Handle& handle);

  Counters counters() const;

 private:
  void Run();

  TimeSource* const time_;
  mutable Mutex mu_;
  CondVar changed_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The time the thread sleeps until (infinite: no deadline); past while
  // it is awake or already signalled, when it will look at entries_ anyway.
  absl::Time sleeping_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::pair<absl::Time, std::uint64_t>, std::function<void()>> entries_ ABSL_GUARDED_BY(mu_);
  Counters counters_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_DEADLINE_TIMER_H_
