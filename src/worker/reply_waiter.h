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
// Pumping: a transport that can read its replies on any thread (the
// shared-memory client, worker/shm_client.h) may be offered the wait. The
// caller's thread then reads the reply itself (ReplyPump::Pump) instead of
// sleeping until a reader thread hands it over: one thread wakes per reply
// instead of two. A Fill from another thread (deadline, cancel, a dead
// worker) while the caller pumps interrupts the pump; the waiter does not
// let the caller leave before that interrupt is done, so the pump (which
// the caller keeps alive) outlives it.
//
// Lifetime: the caller's, on its stack. Fill() is called once (the router
// finishes every call exactly once); Wait() returns once it sees the word
// FILLED, after which Fill() reads and writes nothing of the waiter: its
// last act, the futex wake, only names the word's address, and a wake on
// an address that is no longer the waiter's wakes nobody or, at worst,
// some other futex user spuriously, which every futex user tolerates.
// Threading: Fill() from any thread; Wait() from its owner (the thread
// that made it), once; OfferPump() from any thread, taken only from the
// owner before Wait().
#ifndef SNAKEPIT_SRC_WORKER_REPLY_WAITER_H_
#define SNAKEPIT_SRC_WORKER_REPLY_WAITER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "snakepit/call.h"

namespace snakepit::internal {

class ReplyWaiter;

// A transport's offer to read a synchronous caller's reply on the caller's
// thread.
class ReplyPump {
 public:
  virtual ~ReplyPump() = default;
  // Reads the transport on the calling thread while `waiter.pumping()`,
  // completing call `call_id` (which fills `waiter`) when its reply comes.
  // May return early, unfilled, when it cannot read (another thread does,
  // the transport closed): the waiter then sleeps until someone fills it.
  // Called once for every offer taken, even when the waiter was filled
  // before Wait() (pumping() is false then), so that the pump can give up
  // what it holds for the call. Must not block past a bounded time once
  // Interrupt() was called.
  virtual void Pump(std::uint64_t call_id, ReplyWaiter& waiter) = 0;
  // Makes a Pump() in progress look at its waiter again. Any thread.
  virtual void Interrupt() = 0;
};

class ReplyWaiter {
 public:
  ReplyWaiter() = default;
  ReplyWaiter(const ReplyWaiter&) = delete;
  ReplyWaiter& operator=(const ReplyWaiter&) = delete;

  // The call's completion: fills this waiter. It holds only a pointer, so
  // it fits std::function's inline storage: no allocation either.
  std::function<void(absl::StatusOr<Reply>)> Completion() {
    return [this](absl::StatusOr<Reply> result) { Fill(std::move(result)); };
  }

  // Offers `pump` to read call `call_id`'s reply in Wait(). Taken only on
  // the owner's thread before Wait() and only once (a call sent again, or
  // sent from another thread, is waited for the ordinary way); returns
  // whether it was taken.
  bool OfferPump(std::shared_ptr<ReplyPump> pump, std::uint64_t call_id);

  void Fill(absl::StatusOr<Reply> result);

  // Blocks until Fill(); bounded because the router finishes every call by
  // its deadline.
  absl::StatusOr<Reply> Wait();

  // For the pump: true while the caller pumps and nobody filled the waiter.
  bool pumping() const { return state_.load(std::memory_order_acquire) == kPumping; }
  // For the pump, on the caller's thread, before it completes the call
  // itself: the Fill that follows then needs no interrupt.
  void StopPumping();

 private:
  static constexpr std::uint32_t kEmpty = 0;
  static constexpr std::uint32_t kSleeping = 1;      // Wait() sleeps, or is about to
  static constexpr std::uint32_t kFilled = 2;        // result_ is final
  static constexpr std::uint32_t kPumping = 3;       // Wait() runs pump_->Pump()
  static constexpr std::uint32_t kInterrupting = 4;  // Fill() interrupts the pump; result_ is final

  absl::StatusOr<Reply> result_;  // written once, before state_ is kFilled or kInterrupting
  std::atomic<std::uint32_t> state_{kEmpty};
  const std::thread::id owner_ = std::this_thread::get_id();
  // The owner's alone until Wait() publishes them with kPumping.
  std::shared_ptr<ReplyPump> pump_;
  std::uint64_t pumped_call_ = 0;
  bool waiting_ = false;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REPLY_WAITER_H_
