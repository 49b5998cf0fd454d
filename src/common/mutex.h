// Mutex, MutexLock, Condition and CondVar: the project's own locking, with
// absl::Mutex's interface and semantics, built on std::mutex and
// std::condition_variable.
//
// Why this exists: Debian's Abseil is a prebuilt library without
// ThreadSanitizer instrumentation. absl::Mutex synchronizes through its own
// atomics and futex calls inside that library, so TSan never sees its lock
// and unlock and reports races on everything the mutex guards. These classes
// lock through pthread calls, which TSan intercepts, so a TSan build checks
// the project's locking for real. They keep Abseil's thread-safety
// annotations (absl/base/thread_annotations.h is header-only), so
// ABSL_GUARDED_BY and ABSL_EXCLUSIVE_LOCKS_REQUIRED keep their meaning under
// clang's -Wthread-safety.
//
// Semantics kept from absl::Mutex:
// - Await(cond) returns with the mutex held once `cond` is true. `cond` is
//   re-evaluated, under the mutex, whenever another thread releases the
//   mutex (Unlock, a blocking Await, a CondVar wait), so code that makes it
//   true needs no explicit notify. `cond` must depend only on state guarded
//   by the mutex, and must not block.
// - AwaitWithTimeout / AwaitWithDeadline return whether `cond` is true; on
//   false the time ran out (the mutex is held either way). Deadlines are
//   measured on the steady clock from the moment of the call.
// - CondVar waits release the mutex while blocked and hold it on return;
//   WaitWithTimeout / WaitWithDeadline return true if the time ran out. A
//   CondVar may wake spuriously: wait in a loop that checks the state.
// Not provided (the code uses none): reader locks, TryLock, reentrancy.
//
// Cost: Lock and Unlock are std::mutex's, plus one relaxed store of the
// owner (for AssertHeld); an Unlock with nobody in Await reads one counter
// and wakes nobody. With threads in Await, an Unlock wakes them all and
// each re-evaluates its condition: Await is meant for few waiters.
//
// Threading: every method is thread-safe. The mutex is not reentrant.
// Destroying a Mutex or CondVar with a thread waiting on it is undefined.
#ifndef SNAKEPIT_SRC_COMMON_MUTEX_H_
#define SNAKEPIT_SRC_COMMON_MUTEX_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace snakepit::internal {

// A predicate for Mutex::Await: `Condition(&fn)` calls `fn()`, which must
// return bool. Holds a pointer: `fn` must outlive the Condition (it always
// does in the usual `Await(Condition(&lambda))`).
class Condition {
 public:
  template <typename F>
  explicit Condition(const F* fn) : fn_(fn), eval_(&Call<F>) {}

  bool Eval() const { return eval_(fn_); }

 private:
  // The caller of Eval() holds the mutex the predicate's annotations name;
  // the analysis cannot follow that through a function pointer.
  template <typename F>
  static bool Call(const void* fn) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return static_cast<bool>((*static_cast<const F*>(fn))());
  }

  const void* fn_;
  bool (*eval_)(const void*);
};

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.lock();
    Acquired();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    Releasing();
    mu_.unlock();
  }
  // Aborts unless the calling thread holds the mutex.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK();

  // REQUIRES: the mutex is held. It is released while waiting.
  void Await(const Condition& cond) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  bool AwaitWithTimeout(const Condition& cond, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  bool AwaitWithDeadline(const Condition& cond, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);

 private:
  friend class CondVar;
  using Clock = std::chrono::steady_clock;

  void Acquired() { owner_.store(std::this_thread::get_id(), std::memory_order_relaxed); }
  // Before every release: clears the owner and, if threads are in Await,
  // wakes them to re-evaluate their conditions (the releasing thread may
  // have made one true). Notified under the mutex, so a waiter that returns
  // and destroys the Mutex cannot race with the notify.
  void Releasing() {
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    if (awaiting_ > 0) awaiters_.notify_all();
  }
  // Await's loop; `timed` false waits without a deadline.
  bool AwaitUntil(const Condition& cond, bool timed, Clock::time_point deadline);

  std::mutex mu_;
  std::atomic<std::thread::id> owner_{};
  std::condition_variable awaiters_;
  int awaiting_ = 0;  // threads blocked in Await; guarded by mu_
};

// Holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable for Mutex. Signal/SignalAll may be called with or
// without the mutex held.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: `mu` is held. It is released while waiting.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  bool WaitWithTimeout(Mutex* mu, absl::Duration timeout) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  bool WaitWithDeadline(Mutex* mu, absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  bool WaitUntil(Mutex* mu, bool timed, Mutex::Clock::time_point deadline);

  std::condition_variable cv_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_MUTEX_H_
