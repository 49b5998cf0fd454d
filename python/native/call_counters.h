// CallCounters: the Execute counters of StatsResponse (in_flight,
// requests_served, requests_failed), kept in C++ so that Stats reads them
// without Python. They count what calls.WorkerCalls counts for the grpcio
// transport: a call is in flight while a handler thread runs it, and served
// (and failed, when its reply is an Error) once its reply is computed; a
// BUSY rejection is served and failed at once.
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_COUNTERS_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_COUNTERS_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace snakepit::native {

// Thread-safe. A mutex of its own (never the GIL), held for a few
// instructions, so that a reader sees the three counters together: a call
// is never both in flight and served, nor neither.
class CallCounters {
 public:
  struct Values {
    std::int32_t in_flight = 0;
    std::uint64_t served = 0;
    std::uint64_t failed = 0;
  };

  // A handler thread starts running a call.
  void Started() {
    absl::MutexLock lock(&mu_);
    ++values_.in_flight;
  }

  // That call ended: with a reply (`failed` when it is an Error), or, when
  // `answered` is false, with none (cancelled before it ran: not counted).
  void Finished(bool answered, bool failed) {
    absl::MutexLock lock(&mu_);
    --values_.in_flight;
    if (answered) Count(failed);
  }

  // A call was answered BUSY without running.
  void Rejected() {
    absl::MutexLock lock(&mu_);
    Count(/*failed=*/true);
  }

  Values Read() const {
    absl::MutexLock lock(&mu_);
    return values_;
  }

 private:
  void Count(bool failed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++values_.served;
    if (failed) ++values_.failed;
  }

  mutable absl::Mutex mu_;
  Values values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_COUNTERS_H_
