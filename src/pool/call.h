// Call: one submitted call, from Submit() to the one delivery of its
// result.
//
// Exactly-once: the reply, the deadline timer and shutdown race to finish
// a call; whoever wins Claim() delivers, the others drop their result (a
// late reply is counted and dropped, and can never reach another caller:
// each call owns its own RPC and completion). Everything else is guarded by
// the pool's mutex (PoolCore::mu).
#ifndef SNAKEPIT_SRC_POOL_CALL_H_
#define SNAKEPIT_SRC_POOL_CALL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "snakepit/call.h"

namespace snakepit::internal {

class ReplyWaiter;
class StreamChannel;
struct Slot;

struct Call {
  using StopCallback = std::stop_callback<std::function<void()>>;

  using Callback = std::function<void(absl::StatusOr<Reply>)>;

  std::uint64_t id = 0;
  std::string command;
  std::string args_json;
  std::vector<std::string> attachments;
  std::map<std::string, std::string> metadata;  // CallOptions::metadata, checked
  std::string trace_id;                         // of its traceparent, or ""
  // Set for a streaming call: where its chunks go (its `done` ends it).
  std::shared_ptr<StreamChannel> stream;
  absl::Time submitted;
  absl::Time deadline;
  absl::Time queue_deadline;  // when queued: min(deadline, submitted + queue_timeout)
  absl::Time sent;            // when dispatched to a worker
  bool admitted = false;      // queued or dispatched (not refused at once)
  Callback done;
  // The synchronous caller's waiter that `done` fills, if any (WorkerCall).
  ReplyWaiter* waiter = nullptr;
  int attempts_left = 1;  // runs still allowed, this one included (retries)
  int attempts = 0;       // runs sent so far
  bool queued = false;
  std::string worker_label;  // the worker it was last dispatched to
  // The slot it runs on while dispatched and not answered (see Slot:
  // its worker lives while the call is in flight).
  Slot* slot = nullptr;
  Clock::TimerHandle timer;  // its deadline (queued: its queue deadline)
  // Armed when the caller gives up on a running call (deadline, cancel):
  // fires call_kill_timeout later while the worker has not answered;
  // `answered` is set by the reply.
  Clock::TimerHandle kill_timer;
  bool answered = false;
  // Its caller has its answer (deadline, cancel) but the worker still runs
  // it: counted in PoolCore::abandoned and Slot::abandoned until it ends.
  bool abandoned = false;
  // Cancel on the caller's stop token and the stream's own; dropped when
  // the call is delivered (destroying one waits for it if it is running).
  std::vector<std::unique_ptr<StopCallback>> stop_callbacks;
  // Affinity (CallOptions): the key, its mode, and, for a strict call
  // waiting in the queue, the worker it waits for (-1: any).
  std::string affinity_key;
  Affinity affinity = Affinity::kHint;
  int pinned = -1;

  // Makes the calling thread the one to finish the call; false if another
  // already did.
  bool Claim() { return !finished_.exchange(true, std::memory_order_acq_rel); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> finished_{false};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_CALL_H_
