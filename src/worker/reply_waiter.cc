#include "worker/reply_waiter.h"

#include <sched.h>

#include <utility>

#include "absl/time/time.h"
#include "shm/futex.h"

namespace snakepit::internal {

bool ReplyWaiter::OfferPump(std::shared_ptr<ReplyPump> pump, std::uint64_t call_id) {
  if (std::this_thread::get_id() != owner_ || waiting_ || pump_ != nullptr) return false;
  pump_ = std::move(pump);
  pumped_call_ = call_id;
  return true;
}

void ReplyWaiter::Fill(absl::StatusOr<Reply> result) {
  result_ = std::move(result);
  std::uint32_t state = state_.load(std::memory_order_acquire);
  while (true) {
    if (state == kPumping) {
      // The caller cannot leave Wait() while the word is kInterrupting, so
      // pump_ (its reference keeps the pump alive) is valid until the
      // store below; nothing of the waiter is touched after it.
      if (state_.compare_exchange_weak(state, kInterrupting, std::memory_order_acq_rel, std::memory_order_acquire)) {
        pump_->Interrupt();
        state_.store(kFilled, std::memory_order_release);
        return;
      }
    } else if (state_.compare_exchange_weak(state, kFilled, std::memory_order_acq_rel, std::memory_order_acquire)) {
      // Publishes result_ to Wait() (release); wakes the caller if it sleeps.
      if (state == kSleeping) FutexWake(&state_, 1);
      return;
    }
  }
}

void ReplyWaiter::StopPumping() {
  std::uint32_t state = kPumping;
  // Fails only when filled meanwhile: Wait() sees to that.
  state_.compare_exchange_strong(state, kEmpty, std::memory_order_acq_rel, std::memory_order_acquire);
}

absl::StatusOr<Reply> ReplyWaiter::Wait() {
  waiting_ = true;
  std::uint32_t state = kEmpty;
  if (pump_ != nullptr) {
    // Fails only when filled already; the pump is called all the same, to
    // give back what it holds for the call (it reads nothing then).
    state_.compare_exchange_strong(state, kPumping, std::memory_order_acq_rel, std::memory_order_acquire);
    pump_->Pump(pumped_call_, *this);
    StopPumping();  // unless the pump did, or a Fill came meanwhile
    // Waits out a Fill() that is still interrupting (the pump's Interrupt
    // and a store away) before the pump may go.
    while (state_.load(std::memory_order_acquire) == kInterrupting) ::sched_yield();
  }
  state = state_.load(std::memory_order_acquire);
  if (state == kEmpty &&
      state_.compare_exchange_strong(state, kSleeping, std::memory_order_acquire, std::memory_order_acquire)) {
    state = kSleeping;
  }
  while (state != kFilled) {
    FutexWait(&state_, kSleeping, absl::InfiniteFuture());
    state = state_.load(std::memory_order_acquire);
  }
  pump_.reset();
  return std::move(result_);
}

}  // namespace snakepit::internal
