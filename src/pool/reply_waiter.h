// ReplyWaiter: where a synchronous caller (PoolManager::execute and call)
// waits for its call's one result. The call's completion, on whichever
// thread finishes the call (the worker's reply, the deadline timer, a
// cancel, a refusal on the caller's own thread), moves the result in and
// wakes the caller directly: no promise and no shared state to allocate,
// and the reply and its attachments are moved, never copied.
//
// The wake-up is one word and a futex: Fill makes the word FILLED and calls
// the kernel only if the caller sleeps on it. A mutex and condition
// variable (common/notification.h) cost the filling thread a lock, a
// broadcast and often a contended unlock per call, and on the 2-vCPU VMs
// this runs on every system call is dear (docs/performance.md).
//
// Lifetime: the caller's, on its stack. Fill() is called once (the router
// finishes every call exactly once); Wait() returns once it sees the word
// FILLED, after which Fill() reads and writes nothing of the waiter: its
// last act, the futex wake, only names the word's address, and a wake on
// an address that is no longer the waiter's wakes nobody or, at worst,
// some other futex user spuriously, which every futex user tolerates.
// Threading: Fill() from any thread; Wait() from its owner, once.
#ifndef SNAKEPIT_SRC_POOL_REPLY_WAITER_H_
#define SNAKEPIT_SRC_POOL_REPLY_WAITER_H_

#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pool/call.h"
#include "shm/futex.h"
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
    // Publishes result_ to Wait() (release); wakes the caller if it sleeps.
    if (state_.exchange(kFilled, std::memory_order_acq_rel) == kSleeping) FutexWake(&state_, 1);
  }

  // Blocks until Fill(); bounded because the router finishes every call by
  // its deadline.
  absl::StatusOr<Reply> Wait() {
    std::uint32_t state = state_.load(std::memory_order_acquire);
    if (state == kEmpty &&
        state_.compare_exchange_strong(state, kSleeping, std::memory_order_acquire, std::memory_order_acquire)) {
      state = kSleeping;
    }
    while (state != kFilled) {
      FutexWait(&state_, kSleeping, absl::InfiniteFuture());
      state = state_.load(std::memory_order_acquire);
    }
    return std::move(result_);
  }

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kSleeping = 1;  // Wait() sleeps, or is about to
  static constexpr std::uint32_t kFilled = 2;

  absl::StatusOr<Reply> result_;  // written once, before state_ is kFilled
  std::atomic<std::uint32_t> state_{kEmpty};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_REPLY_WAITER_H_
