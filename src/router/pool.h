// Pool: one named pool. Owns its workers, accounts for their capacity,
// routes each call to the worker with the most free capacity, and keeps a
// bounded FIFO of calls waiting for a slot.
//
// Capacity is the router's own count: a slot is taken when a call is sent
// and given back only when the worker's reply (or its death) arrives. A
// caller whose deadline passes gets DEADLINE_EXCEEDED at once, but its slot
// stays taken until the worker is really done, so the worker never gets more
// calls than it has slots; the late reply is counted and dropped, and can
// never reach another caller (each call owns its own RPC and completion).
//
// The pool also carries out worker replacement (pool_maintenance.cc):
// recycling a worker gracefully (replacement first within max_surge, drain,
// SIGTERM, SIGKILL), restarting crashed workers with exponential backoff and
// a visible degraded state, and killing a worker whose call overran its
// deadline by call_kill_timeout. *When* to recycle is the LifecycleManager's
// decision (src/lifecycle/), made through the maintenance methods below.
//
// Threading: every public method is thread-safe. Completions run on gRPC
// and timer threads; the user's callback is never invoked under the lock.
// Maintenance scripts run on TaskGroup threads, joined by Shutdown().
#ifndef SNAKEPIT_SRC_ROUTER_POOL_H_
#define SNAKEPIT_SRC_ROUTER_POOL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/busy_clock.h"
#include "common/mutex.h"
#include "common/task_group.h"
#include "diagnostics/latency_histogram.h"
#include "profile/worker_profile.h"
#include "router/deadline_timer.h"
#include "snakepit/call.h"
#include "snakepit/config.h"
#include "snakepit/events.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

// What the LifecycleManager sees of one worker.
struct WorkerView {
  int id = 0;
  int pid = 0;
  WorkerState state = WorkerState::kStarting;
  bool recycling = false;           // a replacement is under way
  absl::Time expires_at;            // InfiniteFuture() without a TTL
  std::uint64_t requests = 0;       // calls finished
  std::uint64_t request_limit = 0;  // 0: none
};

class Pool {
 public:
  using Callback = std::function<void(absl::StatusOr<Reply>)>;
  // Makes worker `id` with `profile`; `on_exit` must be passed to it.
  using WorkerFactory =
      std::function<std::unique_ptr<WorkerProfile>(Profile profile, int id, WorkerProfile::ExitCallback on_exit)>;
  // Receives the pool's lifecycle events; must not block (EventBus::Publish).
  using EventSink = std::function<void(Event)>;
  // Whether anyone listens now: per-call request_executed events are only
  // made when it says so, so an unobserved pool pays nothing for them.
  using EventsWanted = std::function<bool()>;

  Pool(PoolConfig config, WorkerFactory factory, EventSink events = nullptr, EventsWanted events_wanted = nullptr);
  ~Pool();  // Shutdown()
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Starts config.pool_size workers, startup_batch_size at a time, each
  // batch in parallel. On error every worker is stopped. Call once.
  [[nodiscard]] absl::Status Start();

  // Routes one call; `done` runs exactly once (see PoolManager::Callback).
  void Submit(std::string command, std::string args_json, CallOptions options, Callback done);

  PoolStats Stats() const;
  const std::string& name() const { return config_.name; }
  const PoolConfig& config() const { return config_; }

  // --- Maintenance (used by LifecycleManager and PoolManager) ------------

  std::vector<WorkerView> Workers() const;

  // Replaces worker `id` gracefully, in the background; `reason` goes into
  // its events ("ttl", "max_requests", "memory", "manual", ...) and
  // `memory_bytes` into the recycled event of a memory recycle. NOT_FOUND
  // for an unknown id; FAILED_PRECONDITION if the worker is not ready or is
  // already being replaced.
  absl::Status Recycle(int id, std::string reason, std::int64_t memory_bytes = 0);

  // SIGKILLs worker `id` now (a hung worker cannot drain) and replaces it at
  // once; its in-flight calls fail with UNAVAILABLE. No-op unless ready or
  // draining.
  void Kill(int id, std::string reason);

  // Health probe of worker `id`; `done` as WorkerProfile::CheckHealth
  // (NOT_FOUND at once for an unknown or no longer live worker).
  void ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done);

  // Records the last memory figures measured for worker `id` (stats).
  void RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes);

  void Emit(Event event) const;

  // Asks every live worker for its own report (the Stats RPC's
  // diagnostics_json: thread-safety findings, loaded libraries), all at
  // once, and waits for the answers until `deadline`. Worker id -> report,
  // or the error of that worker (UNAVAILABLE, DEADLINE_EXCEEDED).
  std::map<int, absl::StatusOr<nlohmann::json>> WorkerDiagnostics(absl::Time deadline) const;

  // See PoolManager::shutdown(). Idempotent.
  void Shutdown();

 private:
  struct Slot;
  struct Call;
  using Dispatch = std::pair<Slot*, std::shared_ptr<Call>>;

  absl::Status StartWorkers(Profile profile);
  void StopSlots(std::vector<std::shared_ptr<Slot>> slots);
  // A new slot (state kStarting) with its limits drawn; not yet in slots_.
  std::shared_ptr<Slot> NewSlot(Profile profile);
  // Adds `slot` to slots_, starts its worker and marks it ready, then
  // dispatches queued calls to it. On failure removes it again.
  absl::Status StartSlot(const std::shared_ptr<Slot>& slot);
  // Erases `slot` from slots_ and destroys its worker (waits for its
  // watcher and RPC callbacks: never call from those).
  void RemoveSlot(const std::shared_ptr<Slot>& slot);
  std::shared_ptr<Slot> FindSlot(int id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsDead(const std::shared_ptr<Slot>& slot) const ABSL_LOCKS_EXCLUDED(mu_);
  // Maintenance scripts (TaskGroup threads).
  void RunRecycle(std::shared_ptr<Slot> old, std::string reason, std::int64_t memory_bytes);
  void RunRestart(std::shared_ptr<Slot> dead);
  void Retire(const std::shared_ptr<Slot>& old, const std::string& reason, std::int64_t memory_bytes);
  // Starts one replacement, retrying with backoff until it is up or the
  // pool closes; false if it closed first. Callers keep pending_starts_.
  bool StartReplacementWithBackoff();
  void FailQueueIfHopeless() ABSL_LOCKS_EXCLUDED(mu_);
  // Empties the wait queue, cancelling each call's queue timer; the caller
  // completes the calls once mu_ is released.
  std::vector<std::shared_ptr<Call>> TakeQueue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What callers of a degraded pool with no routable worker are told.
  absl::Status DegradedError() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A started worker begins taking calls: state, start time, TTL expiry.
  void MarkReady(Slot& slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmKillTimer(Slot* slot, const std::shared_ptr<Call>& call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Event MakeEvent(EventType type, const Slot* slot) const ABSL_LOCKS_EXCLUDED(mu_);
  Event MakeEventLocked(EventType type, const Slot* slot) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int ReadyWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Slot* PickSlot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<Dispatch> TakeQueuedWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(const Dispatch& work);
  void OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result);
  void OnTimer(const std::shared_ptr<Call>& call);
  void OnWorkerExit(Slot* slot, const ExitInfo& info);
  void ArmDeadline(const std::shared_ptr<Call>& call, absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers `result` unless the call already finished; false if it had.
  bool Complete(Call& call, absl::StatusOr<Reply> result);
  // Complete() in two steps: Claim() makes this thread the one to finish
  // the call (false if another already did); Deliver() runs the callback.
  bool Claim(Call& call);
  void Deliver(Call& call, absl::StatusOr<Reply> result);
  int LiveWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Telemetry (pool_telemetry.cc).
  // Which load conditions began with the last change, and the figures.
  struct LoadEdges {
    bool saturated = false;
    bool full = false;
    int queued = 0;
    int in_flight = 0;
  };
  // After the queue or in-flight count changed: advances the saturation
  // clocks and says which events to emit (rate-limited) once mu_ is
  // released.
  LoadEdges NoteLoad(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EmitLoadEdges(const LoadEdges& edges) const ABSL_LOCKS_EXCLUDED(mu_);
  // A worker became ready: warns (event + log, once per pool and reason)
  // when what it runs does not fit the profile.
  void CheckProfileFit(const Slot& slot);
  void RecordCompletion(const Call& call, const absl::Status& status);

  PoolConfig config_;
  const WorkerFactory factory_;
  const EventSink events_;
  const EventsWanted events_wanted_;
  const absl::Time created_at_ = absl::Now();
  LatencyHistogram latency_;
  DeadlineTimer timer_;
  TaskGroup tasks_;

  mutable Mutex mu_;
  Profile running_profile_ ABSL_GUARDED_BY(mu_);
  std::string fallback_reason_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int next_worker_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Slot>> slots_ ABSL_GUARDED_BY(mu_);
  std::deque<std::shared_ptr<Call>> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int queue_high_water_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t late_replies_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t retries_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<std::uint64_t> timeouts_{0};
  // Telemetry.
  absl::Duration busy_total_ ABSL_GUARDED_BY(mu_);  // removed workers included
  absl::Duration cpu_total_ ABSL_GUARDED_BY(mu_);
  BusyClock queue_clock_ ABSL_GUARDED_BY(mu_);
  BusyClock full_clock_ ABSL_GUARDED_BY(mu_);
  absl::Time last_saturated_event_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_full_event_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::set<std::string> warned_ ABSL_GUARDED_BY(mu_);  // pool_warning reasons given

  // Maintenance state.
  int surges_ ABSL_GUARDED_BY(mu_) = 0;          // replacements running beyond pool_size
  int pending_starts_ ABSL_GUARDED_BY(mu_) = 0;  // restarts under way (with backoff)
  int consecutive_start_failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool degraded_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_start_error_ ABSL_GUARDED_BY(mu_);
  std::uint64_t crashes_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t restarts_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::uint64_t> recycles_ ABSL_GUARDED_BY(mu_);  // by reason
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);                            // jitter draws
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_ROUTER_POOL_H_
