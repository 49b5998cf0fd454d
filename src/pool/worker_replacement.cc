// WorkerSupervisor: replacing workers. A recycle (graceful: successor
// first within max_surge, then drain, SIGTERM, SIGKILL), a restart after a
// crash (with exponential backoff and the degraded state), and the
// retirement of the old worker. See the class comment.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "pool/worker_supervisor.h"
#include "snakepit/logging.h"

namespace snakepit::internal {

absl::Status WorkerSupervisor::Recycle(int id, std::string reason, std::int64_t memory_bytes) {
  MutexLock lock(&core_.mu);
  std::shared_ptr<Slot> slot = core_.Find(id);
  if (slot == nullptr) return absl::NotFoundError(absl::StrCat("pool '", core_.name(), "' has no worker ", id));
  if (core_.closed) return absl::FailedPreconditionError(absl::StrCat("pool '", core_.name(), "' is shutting down"));
  if (core_.config.remote) {
    return absl::FailedPreconditionError(absl::StrCat("pool '", core_.name(), "' is remote: worker ", slot->label,
                                                      " is no process of ours to recycle (", reason,
                                                      "); restart its pod instead"));
  }
  if (slot->state != WorkerState::kReady || slot->replacement != Replacement::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker ", slot->label, " is ", std::string(WorkerStateName(slot->state)),
                     slot->replacement != Replacement::kNone ? " and already being replaced" : ""));
  }
  slot->replacement = Replacement::kRequested;
  // Spawned under mu, after the closed check: Shutdown() sets closed under
  // mu before it joins the tasks, so no task can slip past the join.
  tasks_.Spawn([this, slot, reason = std::move(reason), memory_bytes]() mutable {
    RunRecycle(std::move(slot), std::move(reason), memory_bytes);
  });
  return absl::OkStatus();
}

void WorkerSupervisor::RunRecycle(std::shared_ptr<Slot> old, std::string reason, std::int64_t memory_bytes) {
  const PoolConfig& config = core_.config;
  // Whether this recycle may still take charge of the successor: not if the
  // worker died meanwhile (the exit handler replaces it) or the pool closed.
  auto still_ours = [this, &old]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu) {
    return !core_.closed && old->state == WorkerState::kReady && old->replacement == Replacement::kRequested;
  };
  if (config.max_surge == 0) {
    // No room above pool_size: drain first, then start the successor. The
    // pending start keeps callers queueing rather than failing meanwhile.
    {
      MutexLock lock(&core_.mu);
      if (!still_ours()) return;
      old->replacement = Replacement::kCommitted;
      ++core_.pending_starts;
    }
    Retire(old, reason, memory_bytes);
    StartReplacementWithBackoff();
    MutexLock lock(&core_.mu);
    --core_.pending_starts;
    return;
  }
  {
    // Wait for a surge slot; other recycles hold them for at most a start,
    // a drain and a kill grace.
    MutexLock lock(&core_.mu);
    auto can_go = [this, &still_ours]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu) {
      return !still_ours() || surges_ < core_.config.max_surge;
    };
    const absl::Duration patience =
        absl::FromChrono(config.startup_timeout + config.drain_timeout + config.kill_grace) + absl::Seconds(5);
    core_.clock.AwaitUntil(&core_.mu, Condition(&can_go), core_.clock.Now() + patience);
    if (!still_ours()) return;
    if (surges_ >= config.max_surge) {
      logger()->warn("pool '{}': recycle of worker {} ({}) postponed: no surge slot freed up in {}", core_.name(),
                     old->label, reason, absl::FormatDuration(patience));
      old->replacement = Replacement::kNone;  // a later tick may try again
      return;
    }
    old->replacement = Replacement::kCommitted;
    ++surges_;
  }
  // The old worker keeps serving until its successor is ready. False only
  // when the pool closes, and then Shutdown() stops every worker.
  if (StartReplacementWithBackoff()) Retire(old, reason, memory_bytes);
  MutexLock lock(&core_.mu);
  --surges_;
}

void WorkerSupervisor::Retire(const std::shared_ptr<Slot>& old, const std::string& reason, std::int64_t memory_bytes) {
  bool dead = false;
  {
    MutexLock lock(&core_.mu);
    if (old->state == WorkerState::kReady) old->state = WorkerState::kDraining;
    dead = old->state == WorkerState::kDead;
  }
  if (dead) {  // crashed meanwhile: its crash event was sent; we own the removal
    RemoveSlot(old);
    return;
  }
  Event draining = core_.MakeEventUnlocked(EventType::kWorkerDraining, old.get());
  draining.reason = reason;
  core_.Emit(std::move(draining));
  // Strict affinity calls that waited for this worker re-home.
  router_.DispatchQueued();
  int abandoned = 0;
  {
    MutexLock lock(&core_.mu);
    // Calls whose callers have gone are not waited for (they were asked to
    // stop; SIGTERM ends them).
    auto drained = [&old]() { return old->in_flight == old->abandoned || old->state == WorkerState::kDead; };
    core_.clock.AwaitUntil(&core_.mu, Condition(&drained),
                           core_.clock.Now() + absl::FromChrono(core_.config.drain_timeout));
    // A kill under way (its stack dump takes up to a second) ends in the
    // worker's exit: wait for that rather than stop it at the same time.
    auto killed_and_gone = [&old]() { return old->fault != Fault::kKilled || old->state == WorkerState::kDead; };
    core_.clock.AwaitUntil(&core_.mu, Condition(&killed_and_gone),
                           core_.clock.Now() + absl::FromChrono(core_.config.kill_grace) + absl::Seconds(5));
    dead = old->state == WorkerState::kDead;
    abandoned = dead ? 0 : old->in_flight - old->abandoned;
    if (!dead) old->state = WorkerState::kStopped;
  }
  if (dead) {
    RemoveSlot(old);
    return;
  }
  if (abandoned > 0) {
    logger()->warn("pool '{}': worker {} still had {} calls after drain_timeout; stopping it anyway", core_.name(),
                   old->label, abandoned);
  }
  Event recycled = core_.MakeEventUnlocked(EventType::kWorkerRecycled, old.get());
  old->worker->Stop(absl::FromChrono(core_.config.kill_grace));
  recycled.reason = reason;
  recycled.memory_bytes = memory_bytes;
  telemetry_.CountRecycle(reason);
  logger()->info("pool '{}': recycled worker {} ({}; up {} ms, {} requests)", core_.name(), old->label, reason,
                 recycled.uptime.count(), recycled.requests);
  core_.Emit(std::move(recycled));
  RemoveSlot(old);
}

bool WorkerSupervisor::StartReplacementWithBackoff() {
  absl::Duration delay = absl::FromChrono(core_.config.restart_backoff_initial);
  while (true) {
    Profile profile;
    {
      MutexLock lock(&core_.mu);
      if (core_.closed) return false;
      profile = core_.running_profile;
    }
    const absl::Status status = StartSlot(NewSlot(profile));
    if (status.ok()) return true;
    // The backoff counts from the failure, not from when its events are out.
    const absl::Time retry_at = core_.clock.Now() + delay;
    if (NoteStartFailure(status, delay) < 0) return false;
    {
      MutexLock lock(&core_.mu);
      auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu) { return core_.closed; };
      if (core_.clock.AwaitUntil(&core_.mu, Condition(&closed), retry_at)) return false;
    }
    delay = std::min(delay * 2, absl::FromChrono(core_.config.restart_backoff_max));
  }
}

int WorkerSupervisor::NoteStartFailure(const absl::Status& status, absl::Duration next_delay) {
  int failures = 0;
  bool now_degraded = false;
  {
    MutexLock lock(&core_.mu);
    if (core_.closed) return -1;
    failures = ++core_.consecutive_start_failures;
    core_.last_start_error = std::string(status.message());
    now_degraded = !core_.degraded && failures >= core_.config.degraded_after_failures;
    core_.degraded = core_.degraded || now_degraded;
  }
  logger()->warn("pool '{}': worker start failed ({} in a row), retrying in {}: {}", core_.name(), failures,
                 absl::FormatDuration(next_delay), std::string(status.message()));
  if (now_degraded) {
    logger()->error("pool '{}': degraded after {} failed starts in a row", core_.name(), failures);
    Event degraded = core_.MakeEventUnlocked(EventType::kPoolDegraded, nullptr);
    degraded.failures = failures;
    degraded.message = std::string(status.message());
    core_.Emit(std::move(degraded));
    router_.FailQueueIfHopeless();
  }
  Event backoff = core_.MakeEventUnlocked(EventType::kRestartBackoff, nullptr);
  backoff.backoff = absl::ToChronoMilliseconds(next_delay);
  backoff.failures = failures;
  backoff.message = std::string(status.message());
  core_.Emit(std::move(backoff));
  return failures;
}

void WorkerSupervisor::RunRestart(std::shared_ptr<Slot> dead) {
  RemoveSlot(dead);
  const bool started = StartReplacementWithBackoff();
  {
    MutexLock lock(&core_.mu);
    --core_.pending_starts;
  }
  if (started) telemetry_.CountRestart();
}

}  // namespace snakepit::internal
