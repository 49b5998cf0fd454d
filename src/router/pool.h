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
// Threading: every public method is thread-safe. Completions run on gRPC
// and timer threads; the user's callback is never invoked under the lock.
#ifndef SNAKEPIT_SRC_ROUTER_POOL_H_
#define SNAKEPIT_SRC_ROUTER_POOL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "profile/worker_profile.h"
#include "router/deadline_timer.h"
#include "snakepit/call.h"
#include "snakepit/config.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

class Pool {
 public:
  using Callback = std::function<void(absl::StatusOr<Reply>)>;
  // Makes worker `id` with `profile`; `on_exit` must be passed to it.
  using WorkerFactory =
      std::function<std::unique_ptr<WorkerProfile>(Profile profile, int id, WorkerProfile::ExitCallback on_exit)>;

  Pool(PoolConfig config, WorkerFactory factory);
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

  // See PoolManager::shutdown(). Idempotent.
  void Shutdown();

 private:
  struct Slot;
  struct Call;
  using Dispatch = std::pair<Slot*, std::shared_ptr<Call>>;

  absl::Status StartWorkers(Profile profile);
  void StopSlots(std::vector<std::shared_ptr<Slot>> slots);
  Slot* PickSlot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<Dispatch> TakeQueuedWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Send(const Dispatch& work);
  void OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result);
  void OnTimer(const std::shared_ptr<Call>& call);
  void OnWorkerExit(Slot* slot, const ExitInfo& info);
  void ArmDeadline(const std::shared_ptr<Call>& call, absl::Time when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers `result` unless the call already finished; false if it had.
  bool Complete(Call& call, absl::StatusOr<Reply> result);
  int LiveWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  PoolConfig config_;
  const WorkerFactory factory_;
  DeadlineTimer timer_;

  mutable absl::Mutex mu_;
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
  std::atomic<std::uint64_t> timeouts_{0};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_ROUTER_POOL_H_
