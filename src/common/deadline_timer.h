// DeadlineTimer: runs callbacks at given times on one internal thread.
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

  DeadlineTimer();
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // An infinite `when` schedules nothing and returns an empty handle.
  Handle Schedule(absl::Time when, std::function<void()> fn);
  void Cancel(const Handle& handle);

 private:
  void Run();

  Mutex mu_;
  CondVar changed_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::pair<absl::Time, std::uint64_t>, std::function<void()>> entries_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_DEADLINE_TIMER_H_
