#include "common/mutex.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"

namespace snakepit::internal {
namespace {

using Clock = std::chrono::steady_clock;

// Waits longer than this (an infinite timeout included) wait this long: a
// steady_clock time point 100 years ahead still fits its 64-bit count.
constexpr absl::Duration kLongestWait = absl::Hours(24 * 365 * 100);

Clock::time_point SteadyDeadline(absl::Duration timeout) {
  const absl::Duration wait = std::clamp(timeout, absl::ZeroDuration(), kLongestWait);
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(absl::ToChronoNanoseconds(wait));
}

// One wait on `cv`; `timed` false waits without a deadline. True if it
// returned because the deadline passed.
bool WaitOnce(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, bool timed, Clock::time_point deadline) {
  if (timed) return cv.wait_until(lock, deadline) == std::cv_status::timeout;
  cv.wait(lock);
  return false;
}

}  // namespace

void Mutex::AssertHeld() const {
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) return;
  std::fprintf(stderr, "snakepit: Mutex::AssertHeld failed: the calling thread does not hold the mutex\n");
  std::abort();
}

void Mutex::Await(const Condition& cond) { AwaitUntil(cond, false, Clock::time_point()); }

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  return AwaitUntil(cond, true, SteadyDeadline(timeout));
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  return AwaitUntil(cond, true, SteadyDeadline(deadline - absl::Now()));
}

bool Mutex::AwaitUntil(const Condition& cond, bool timed, Clock::time_point deadline) {
  if (cond.Eval()) return true;
  // This thread may have changed the state since it took the mutex, which
  // may make another waiter's condition true: wake them, as Unlock would.
  Releasing();
  ++awaiting_;
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  bool holds = false;
  while (true) {
    // Waking up changes nothing, so going back to sleep wakes nobody.
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    const bool timed_out = WaitOnce(awaiters_, lock, timed, deadline);
    Acquired();
    holds = cond.Eval();
    if (holds || timed_out) break;
  }
  --awaiting_;
  lock.release();  // the caller keeps the mutex
  return holds;
}

void CondVar::Wait(Mutex* mu) { WaitUntil(mu, false, Mutex::Clock::time_point()); }

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  return WaitUntil(mu, true, SteadyDeadline(timeout));
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  return WaitUntil(mu, true, SteadyDeadline(deadline - absl::Now()));
}

bool CondVar::WaitUntil(Mutex* mu, bool timed, Mutex::Clock::time_point deadline) {
  mu->Releasing();  // the mutex is released while waiting: Await conditions get their look
  std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
  const bool timed_out = WaitOnce(cv_, lock, timed, deadline);
  lock.release();
  mu->Acquired();
  return timed_out;
}

}  // namespace snakepit::internal
