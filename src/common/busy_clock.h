// BusyClock: how long a condition has held in total ("the queue was not
// empty", "every slot was busy"), fed with the condition each time it may
// have changed. Not thread-safe: the owner guards it with its own lock.
#ifndef SNAKEPIT_SRC_COMMON_BUSY_CLOCK_H_
#define SNAKEPIT_SRC_COMMON_BUSY_CLOCK_H_

#include "absl/time/time.h"

namespace snakepit::internal {

class BusyClock {
 public:
  // Records the condition's value at `now` (times must not go backwards).
  // True when it just turned on.
  bool Set(bool on, absl::Time now) {
    if (on == on_) return false;
    if (on_) total_ += now - since_;
    on_ = on;
    since_ = now;
    return on;
  }

  // Total time the condition held up to `now`.
  absl::Duration Total(absl::Time now) const { return on_ ? total_ + (now - since_) : total_; }

 private:
  bool on_ = false;
  absl::Time since_;
  absl::Duration total_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_BUSY_CLOCK_H_
