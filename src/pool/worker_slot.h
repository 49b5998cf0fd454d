// Slot: one worker of a pool and the pool's accounting for it.
//
// A slot's life is two small state machines and a fault:
//
//   state:        kStarting -> kReady -> kDraining -> kStopped
//                 (kStarting, kReady, kDraining -> kDead when the process
//                 exits on its own or is killed; a failed start ends in
//                 kDead too)
//   replacement:  kNone -> kRequested -> kCommitted
//                 kRequested: a recycle waits for room to start a successor
//                   while the worker serves; if the worker dies meanwhile,
//                   the exit handler replaces it instead.
//                 kCommitted: the recycle owns the successor; the exit
//                   handler must not start another.
//   fault:        kNone -> kUnreachable -> kKilled
//                 kUnreachable: a call failed at the transport; the worker
//                   gets no calls and is killed if its exit is not seen soon.
//                 kKilled: SIGKILLed on purpose; its exit is reported as a
//                   recycle with kill_reason, not as a crash.
//
// A slot takes calls only when TakesCalls(). Everything but `id`,
// `label` and `handoffs` is guarded by the pool's mutex (PoolCore::mu);
// those are set before the slot is shared. `capacity` is set before too,
// and again under the mutex when the worker becomes ready (a remote worker
// learns it from its Stats). `worker` is
// moved out, under the mutex, only by the supervisor once the slot has left
// the pool, and destroyed once `handoffs` is zero: a thread that read the
// pointer under the mutex may use it outside while it holds a hand-off.
#ifndef SNAKEPIT_SRC_POOL_WORKER_SLOT_H_
#define SNAKEPIT_SRC_POOL_WORKER_SLOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pool/call.h"
#include "snakepit/stats.h"
#include "worker/worker.h"

namespace snakepit::internal {

enum class Replacement { kNone, kRequested, kCommitted };
enum class Fault { kNone, kUnreachable, kKilled };

struct Slot {
  int id = 0;
  std::unique_ptr<Worker> worker;
  std::string label;  // the worker's, for messages ("<pool>-<id>")
  int capacity = 1;   // worker->capacity(), kept after the worker is gone

  WorkerState state = WorkerState::kStarting;
  Replacement replacement = Replacement::kNone;
  Fault fault = Fault::kNone;
  std::string kill_reason;  // with Fault::kKilled
  std::string kill_stacks;  // its Python stacks, asked just before a hung-worker kill
  // Chosen to leave the pool when it shrinks: draining, no successor.
  bool leaving = false;

  int in_flight = 0;
  // Of in_flight, calls whose caller already has its answer (deadline,
  // cancel): shutdown and drains do not wait for them.
  int abandoned = 0;
  std::uint64_t requests = 0;
  // Which reply of the pool was its last (CallRouter::replies_; 0: none).
  // Among workers with as much free capacity, the router picks the one
  // that answered last: its thread that reads calls is the likeliest to
  // be awake and its caches warm, so an idle pool serves a lone caller
  // from one worker (about 4 µs a call less than alternating, bench/
  // scenario 9). The others stay idle, and wear (request limits, memory)
  // gathers on that worker until the load needs more.
  std::uint64_t last_reply = 0;
  absl::Time started_at;
  // Limits drawn for this worker (jitter included); 0 / InfiniteFuture: none.
  std::uint64_t request_limit = 0;
  absl::Duration lifetime = absl::InfiniteDuration();  // TTL + jitter
  absl::Time expires_at = absl::InfiniteFuture();      // set when ready

  // Threads handing a call or a probe to `worker` outside the pool's lock.
  // The worker is destroyed only once this is zero (waited for with
  // std::atomic::wait, woken by the last hand-off).
  std::atomic<int> handoffs{0};

  // Calls whose channel broke before the worker's exit was seen: their
  // callers get the exit status or signal with the error, once it is
  // known (CallRouter::ReleaseParked), or their deadline.
  std::vector<std::pair<std::shared_ptr<Call>, absl::Status>> parked;

  // Telemetry.
  std::int64_t rss_bytes = 0;  // last measured (0: never)
  std::int64_t pss_bytes = 0;
  absl::Duration busy;  // sent-to-reply time of its calls
  absl::Duration cpu;   // handler CPU time its calls reported

  bool live() const { return state == WorkerState::kReady || state == WorkerState::kDraining; }
  // Under its request limit, counting the calls it has taken.
  bool UnderRequestLimit() const {
    return request_limit == 0 || requests + static_cast<std::uint64_t>(in_flight) < request_limit;
  }
  bool TakesCalls() const {
    return state == WorkerState::kReady && fault == Fault::kNone && in_flight < capacity && UnderRequestLimit();
  }
  // Can take a call now or once one of its calls ends.
  bool Routable() const {
    return state == WorkerState::kReady && fault == Fault::kNone && (request_limit == 0 || requests < request_limit);
  }
  int free_capacity() const { return capacity - in_flight; }
};

// Marks a hand-off to slot.worker for its scope (see Slot::handoffs).
class HandoffScope {
 public:
  explicit HandoffScope(Slot& slot) : slot_(slot) { slot_.handoffs.fetch_add(1, std::memory_order_acq_rel); }
  ~HandoffScope() {
    if (slot_.handoffs.fetch_sub(1, std::memory_order_acq_rel) == 1) slot_.handoffs.notify_all();
  }
  HandoffScope(const HandoffScope&) = delete;
  HandoffScope& operator=(const HandoffScope&) = delete;

 private:
  Slot& slot_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_WORKER_SLOT_H_
