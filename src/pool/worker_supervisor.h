// WorkerSupervisor: a pool's workers, from spawn to removal. It starts the
// pool's workers in batches (falling back from the thread profile to the
// process profile when the pool allows it), replaces a worker gracefully
// when asked (successor first within max_surge, then drain, SIGTERM,
// SIGKILL), restarts crashed workers with exponential backoff and a
// visible degraded state, kills hung workers, and stops everything on
// Shutdown(). *When* to recycle is the LifecycleManager's decision
// (src/lifecycle/), made through the pool's ManagedPool methods.
//
// Time (start-up, drain, backoff and surge waits) comes from
// PoolCore::clock, so the policy runs under a fake clock in tests.
//
// Threading: every method is thread-safe and takes PoolCore::mu itself.
// Replacement scripts run on TaskGroup threads, joined by Shutdown(); each
// wait in them ends by a deadline or when the pool closes.
#ifndef SNAKEPIT_SRC_POOL_WORKER_SUPERVISOR_H_
#define SNAKEPIT_SRC_POOL_WORKER_SUPERVISOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/task_group.h"
#include "lifecycle/managed_pool.h"
#include "nlohmann/json.hpp"
#include "pool/call_router.h"
#include "pool/pool_core.h"
#include "pool/pool_telemetry.h"
#include "process/child_process.h"
#include "worker/worker.h"

namespace snakepit::internal {

class WorkerSupervisor final : public WorkerControl {
 public:
  // Makes worker `id` with `profile`; `on_exit` must be passed to it.
  using WorkerFactory = std::function<std::unique_ptr<Worker>(Profile profile, int id, Worker::ExitCallback on_exit)>;

  // Everything passed in must outlive the supervisor.
  WorkerSupervisor(PoolCore& core, PoolTelemetry& telemetry, CallRouter& router, WorkerFactory factory);
  ~WorkerSupervisor() override;  // Shutdown()
  WorkerSupervisor(const WorkerSupervisor&) = delete;
  WorkerSupervisor& operator=(const WorkerSupervisor&) = delete;

  // Starts config.pool_size workers, startup_batch_size at a time, each
  // batch in parallel. On error every worker is stopped. Call once.
  [[nodiscard]] absl::Status Start();

  // Remote pools (manager/remote_membership.h), whose membership follows
  // resolved addresses instead of pool_size. AddWorker starts one more
  // worker from the factory and blocks until it is ready or failed
  // (startup_timeout); RetireWorker drains worker `id` (drain_timeout) and
  // removes it without a successor, on a task thread. In a remote pool a
  // worker that exits is removed, not restarted: the membership readmits
  // its address with a backoff.
  [[nodiscard]] absl::Status AddWorker();
  void RetireWorker(int id, std::string reason);

  std::vector<WorkerView> Workers() const;
  // See ManagedPool.
  absl::Status Recycle(int id, std::string reason, std::int64_t memory_bytes) override;
  void Kill(int id, std::string reason) override;
  void ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done);
  void RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes);
  // Every live worker's own report, asked all at once, waited for until
  // `deadline`: worker id -> report, or that worker's error.
  std::map<int, absl::StatusOr<nlohmann::json>> WorkerDiagnostics(absl::Time deadline) const;

  // Elastic sizing (worker_scaling.cc). Sets the pool's target size to
  // `workers` and starts moving there in the background: growing starts
  // workers startup_batch_size at a time (with restart backoff); shrinking
  // makes the chosen workers leave (idle ones first, then those with the
  // fewest calls and affinity keys, newest first): each takes no new call,
  // drains, stops and is not replaced. Emits pool_scaling with `reason`
  // and `detail`. INVALID_ARGUMENT outside 1-1024 (or, for a "manual"
  // resize of an autoscaled pool, its bounds); FAILED_PRECONDITION once
  // the pool is closed.
  absl::Status Resize(int workers, std::string reason, std::string detail);
  // The pool's load and size now (the autoscaler's sample).
  LoadSample Load() const;
  // Waits until the pool has at least its target of ready workers and none
  // leaving, the pool closes, or `deadline`; true if it got there.
  bool AwaitTargetSize(absl::Time deadline) const;

  // Closes the pool: fails queued calls, ends replacement scripts, waits up
  // to drain_timeout for calls in flight, then stops every worker.
  // Idempotent.
  void Shutdown();

 private:
  absl::Status StartBatches(Profile profile);
  // A new slot with its limits drawn; not yet in the pool.
  std::shared_ptr<Slot> NewSlot(Profile profile);
  // Adds `slot` to the pool, starts its worker, marks it ready and
  // dispatches queued calls to it. On failure removes it again.
  absl::Status StartSlot(const std::shared_ptr<Slot>& slot);
  // Takes `slot` out of the pool and destroys its worker once no call or
  // hand-off uses it. Never call from the worker's own callbacks.
  void RemoveSlot(const std::shared_ptr<Slot>& slot);
  void StopSlots(std::vector<std::shared_ptr<Slot>> slots);
  void MarkReady(Slot& slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  void OnWorkerExit(Slot* slot, const ExitInfo& info);
  // A hung worker (call_kill_timeout, health_check): asks for its Python
  // stacks (up to kStacksWait), logs them, keeps them for its exit event,
  // then kills it (TaskGroup thread).
  void DumpStacksThenKill(const std::shared_ptr<Slot>& slot);
  // Scaling (worker_scaling.cc). Marks `slot` as leaving the pool.
  void MarkLeaving(Slot& slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // Up to `count` slots to leave when the pool shrinks (idle first).
  std::vector<std::shared_ptr<Slot>> ChooseLeavers(int count) ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu);
  // Starts `count` workers, startup_batch_size at a time (TaskGroup thread).
  void RunScaleUp(int count);
  // Replacement scripts (TaskGroup threads).
  void RunRecycle(std::shared_ptr<Slot> old, std::string reason, std::int64_t memory_bytes);
  void RunRestart(std::shared_ptr<Slot> dead);
  void Retire(const std::shared_ptr<Slot>& old, const std::string& reason, std::int64_t memory_bytes);
  // Starts one replacement, retrying with backoff until it is up or the
  // pool closes; false if it closed first. Callers keep pending_starts.
  bool StartReplacementWithBackoff();
  // A start failed: counts it, and enters the degraded state (event, log,
  // queued calls failed) after degraded_after_failures in a row.
  int NoteStartFailure(const absl::Status& status, absl::Duration next_delay);

  PoolCore& core_;
  PoolTelemetry& telemetry_;
  CallRouter& router_;
  const WorkerFactory factory_;
  TaskGroup tasks_;

  int next_worker_id_ ABSL_GUARDED_BY(core_.mu) = 0;
  int surges_ ABSL_GUARDED_BY(core_.mu) = 0;       // replacements running beyond pool_size
  std::mt19937_64 rng_ ABSL_GUARDED_BY(core_.mu);  // jitter draws
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_WORKER_SUPERVISOR_H_
