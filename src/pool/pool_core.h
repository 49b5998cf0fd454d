// PoolCore: the state a pool's parts share, under one mutex.
//
// A pool is three parts (pool.h): the CallRouter (calls), the
// WorkerSupervisor (workers) and the PoolTelemetry (figures and events).
// The state the router and the supervisor act on lives here, so that a
// pool's routing decision and its view of its workers are one consistent
// snapshot: the slots, the wait queue, whether the pool is closed, and its
// degraded state. The router and the supervisor lock `mu` themselves and
// never call each other with it held, so there is one lock and no lock
// order to get wrong; PoolTelemetry has a lock of its own, taken after
// `mu` when both are held.
//
// Threading: fields are guarded by `mu` as annotated; `config`, `clock`
// and `events` are fixed at construction.
#ifndef SNAKEPIT_SRC_POOL_POOL_CORE_H_
#define SNAKEPIT_SRC_POOL_POOL_CORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "pool/affinity_table.h"
#include "pool/call.h"
#include "pool/worker_slot.h"
#include "snakepit/config.h"
#include "snakepit/events.h"

namespace snakepit::internal {

struct PoolCore {
  // Receives the pool's events; must not block (EventBus::Publish).
  using EventSink = std::function<void(Event)>;

  PoolCore(PoolConfig pool_config, Clock& pool_clock, EventSink sink)
      : config(std::move(pool_config)),
        clock(pool_clock),
        events(std::move(sink)),
        running_profile(config.profile),
        target_size(config.effective_pool_size()),
        desired_size(target_size),
        affinity(config.affinity_max_keys) {}
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  const PoolConfig config;
  Clock& clock;
  const EventSink events;

  mutable Mutex mu;
  std::vector<std::shared_ptr<Slot>> slots ABSL_GUARDED_BY(mu);
  // Calls waiting for a slot, oldest first (the router's).
  std::deque<std::shared_ptr<Call>> queue ABSL_GUARDED_BY(mu);
  int in_flight ABSL_GUARDED_BY(mu) = 0;  // calls sent and not yet answered
  int abandoned ABSL_GUARDED_BY(mu) = 0;  // of which their caller has gone (Slot::abandoned)
  bool closed ABSL_GUARDED_BY(mu) = false;
  // Differs from config.profile after a thread pool fell back to processes.
  Profile running_profile ABSL_GUARDED_BY(mu);
  std::string fallback_reason ABSL_GUARDED_BY(mu);  // why, if so
  // Why the first worker that could have had shared memory did not; set
  // (and logged) once.
  std::string transport_fallback ABSL_GUARDED_BY(mu);
  // Worker starts under way (restarts with backoff, drain-first recycles):
  // each stands for a worker that will be there, so calls may wait for it.
  int pending_starts ABSL_GUARDED_BY(mu) = 0;
  bool degraded ABSL_GUARDED_BY(mu) = false;
  int consecutive_start_failures ABSL_GUARDED_BY(mu) = 0;
  std::string last_start_error ABSL_GUARDED_BY(mu);
  // Elastic sizing (WorkerSupervisor::Resize). The target is the number of
  // places the pool keeps; each is held by a worker, or by a start that
  // will bring one (restarts and recycles keep their place filled).
  int target_size ABSL_GUARDED_BY(mu);
  int desired_size ABSL_GUARDED_BY(mu);  // the autoscaler's, for stats
  int leaving ABSL_GUARDED_BY(mu) = 0;   // slots draining to shrink the pool
  // Places given up with no ready worker to remove: the next worker to
  // become ready (or to exit) gives its place up instead of keeping it.
  int surplus ABSL_GUARDED_BY(mu) = 0;
  std::uint64_t scale_ups ABSL_GUARDED_BY(mu) = 0;
  std::uint64_t scale_downs ABSL_GUARDED_BY(mu) = 0;
  // Which worker serves each affinity key (the router's).
  AffinityTable affinity ABSL_GUARDED_BY(mu);

  const std::string& name() const { return config.name; }

  std::shared_ptr<Slot> Find(int id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Workers that can take a call now or once one of theirs ends.
  int RoutableWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Ready workers without a fault: those that take calls.
  int ReadyWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Workers that are or will be there (ready, starting, draining, pending).
  int LiveWorkers() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Summed capacity of the workers that take calls.
  int RoutableCapacity() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Degraded with nothing to route to: queued calls have no one to wait for.
  bool Hopeless() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return degraded && RoutableWorkers() == 0; }
  // What callers of a degraded pool are told.
  absl::Status DegradedError() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  // An event of this pool about `slot` (null: the pool itself).
  Event MakeEvent(EventType type, const Slot* slot) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  Event MakeEventUnlocked(EventType type, const Slot* slot) const ABSL_LOCKS_EXCLUDED(mu);
  void Emit(Event event) const {
    if (events) events(std::move(event));
  }
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_POOL_CORE_H_
