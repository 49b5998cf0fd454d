// CallRouter: a pool's calls, from Submit() to the delivery of their
// result. It picks the worker with the most free capacity (or the worker
// of the call's affinity key: see ChooseSlot), keeps a bounded
// FIFO of calls waiting for a slot, enforces deadlines (queue_timeout,
// call_timeout, call_kill_timeout), retries idempotent calls whose worker
// died, and makes every call finish exactly once.
//
// Capacity is the router's own count: a slot is taken when a call is sent
// and given back only when the worker's reply (or its death) arrives. A
// caller whose deadline passes gets DEADLINE_EXCEEDED at once, but its slot
// stays taken until the worker is really done, so a worker never gets more
// calls than it has slots; the late reply is counted and dropped.
//
// Time comes from PoolCore::clock, so the routing policy runs under a fake
// clock in tests. The router asks its WorkerControl (the supervisor) to
// kill a worker whose call overran its deadline by call_kill_timeout or
// whose channel broke, and to recycle one that reached its request limit.
//
// Threading: every method is thread-safe and takes PoolCore::mu itself.
// Callers' callbacks, worker hand-offs and events run with no lock held.
#ifndef SNAKEPIT_SRC_POOL_CALL_ROUTER_H_
#define SNAKEPIT_SRC_POOL_CALL_ROUTER_H_

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "pool/call.h"
#include "pool/pool_core.h"
#include "pool/pool_telemetry.h"
#include "pool/stream_channel.h"
#include "snakepit/call.h"

namespace snakepit::internal {

// What the router may ask of whoever manages the workers.
class WorkerControl {
 public:
  virtual ~WorkerControl() = default;
  virtual absl::Status Recycle(int id, std::string reason, std::int64_t memory_bytes) = 0;
  virtual void Kill(int id, std::string reason) = 0;
};

class CallRouter {
 public:
  // Everything passed in must outlive the router.
  CallRouter(PoolCore& core, PoolTelemetry& telemetry, WorkerControl& workers);
  CallRouter(const CallRouter&) = delete;
  CallRouter& operator=(const CallRouter&) = delete;

  // Routes one call; `done` runs exactly once: with the reply, or with
  // RESOURCE_EXHAUSTED (queue full, message too large), DEADLINE_EXCEEDED,
  // UNAVAILABLE (closed, degraded, no workers, worker died) or the
  // worker's error. A negative options.timeout is DEADLINE_EXCEEDED at
  // once; zero means the pool's call_timeout.
  // A streaming call passes its `stream`: its chunks go there, and `done`
  // ends it; streams are never retried. options.stop_token (and, for a
  // stream, the stream's own cancel token) cancels the call (Cancel).
  // A synchronous caller passes the `waiter` that `done` fills: the
  // transport may then read the reply on the caller's thread (WorkerCall).
  void Submit(std::string command, std::string args_json, CallOptions options, Call::Callback done,
              std::shared_ptr<StreamChannel> stream = nullptr, ReplyWaiter* waiter = nullptr);

  // Capacity may have appeared (a worker became ready): sends queued calls.
  void DispatchQueued();
  // If the pool is degraded with no worker to route to, fails the queue.
  void FailQueueIfHopeless();
  // Fails every queued call with `why` (shutdown).
  void FailQueue(const absl::Status& why);
  // Waits until no call is in flight or `deadline`, not counting calls
  // whose caller has gone (abandoned); false if calls remain.
  bool AwaitIdle(absl::Time deadline);
  // Worker `slot` exited (`why`: "exit status 3", "killed by signal 11
  // (SIGSEGV)"): the calls parked on it, whose channel broke before the
  // exit was known, fail now with the cause in their message.
  void ReleaseParked(std::vector<std::pair<std::shared_ptr<Call>, absl::Status>> parked, const std::string& label,
                     const std::string& why);

 private:
  using Dispatch = std::pair<Slot*, std::shared_ptr<Call>>;

  // The worker with the most free capacity; among equals, the one that
  // answered last (Slot::last_reply). Null when none takes calls.
  Slot* PickSlot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // PickSlot, with the call's affinity: its key's worker if that has a
  // free slot; for a strict call whose worker is busy, null with
  // call.pinned set to it; a key whose worker left re-homes.
  Slot* ChooseSlot(Call& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // Takes a slot for `call` on `slot`: counts, deadline, kill timer.
  void Assign(Slot& slot, const std::shared_ptr<Call>& call, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  std::vector<Dispatch> TakeQueuedWork(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // Empties the queue, cancelling each call's queue timer.
  std::vector<std::shared_ptr<Call>> TakeQueue(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  PoolTelemetry::LoadEdges NoteLoad(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  void ArmDeadline(const std::shared_ptr<Call>& call, absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // call_kill_timeout from `now` (the caller gave up at `now`).
  void ArmKillTimer(const Slot& slot, const std::shared_ptr<Call>& call, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  void Send(const Dispatch& work);
  void OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result);
  void OnDeadline(const std::shared_ptr<Call>& call);
  // Registers the call's stop tokens; a stop already requested cancels it
  // at once.
  void WatchStop(const std::shared_ptr<Call>& call, std::stop_token caller);
  // The caller gives up on `call` with `status` (CANCELLED, or
  // DEADLINE_EXCEEDED from OnDeadline): a queued call leaves the queue; a
  // running one is delivered `status` now, the worker is asked to stop it,
  // and the kill timer is armed; its slot is freed by its reply (OnReply).
  void Abandon(const std::shared_ptr<Call>& call, absl::Status status, CancelReason reason);
  void OnKillTimer(const std::shared_ptr<Call>& call, int worker_id);
  // Delivers `result` unless the call already finished.
  void Complete(Call& call, absl::StatusOr<Reply> result);
  void Deliver(Call& call, absl::StatusOr<Reply> result);

  PoolCore& core_;
  PoolTelemetry& telemetry_;
  WorkerControl& workers_;
  // Replies taken so far: Slot::last_reply's clock.
  std::uint64_t replies_ ABSL_GUARDED_BY(core_.mu) = 0;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_CALL_ROUTER_H_
