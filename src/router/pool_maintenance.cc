// Worker replacement: graceful recycling, crash restarts with backoff,
// kills of hung workers, health probes. See the class comment in pool.h.
#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "process/child_process.h"
#include "router/pool_internal.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

bool IsLive(WorkerState state) { return state == WorkerState::kReady || state == WorkerState::kDraining; }

}  // namespace

std::shared_ptr<Pool::Slot> Pool::NewSlot(Profile profile) {
  auto slot = std::make_shared<Slot>();
  {
    MutexLock lock(&mu_);
    slot->id = next_worker_id_++;
    if (config_.worker_max_requests > 0) {
      std::uniform_int_distribution<std::int64_t> extra(0, config_.worker_max_requests_jitter);
      slot->request_limit = static_cast<std::uint64_t>(config_.worker_max_requests + extra(rng_));
    }
    if (config_.worker_ttl.count() > 0) {
      std::uniform_int_distribution<std::int64_t> extra(0, config_.worker_ttl_jitter.count());
      slot->lifetime = absl::Milliseconds(config_.worker_ttl.count() + extra(rng_));
    }
  }
  Slot* raw = slot.get();
  slot->worker = factory_(profile, slot->id, [this, raw](const ExitInfo& info) { OnWorkerExit(raw, info); });
  slot->label = slot->worker->metadata().label;
  return slot;
}

absl::Status Pool::StartSlot(const std::shared_ptr<Slot>& slot) {
  {
    MutexLock lock(&mu_);
    if (closed_) return absl::CancelledError(absl::StrCat("pool '", name(), "' is shutting down"));
    slots_.push_back(slot);
  }
  Emit(MakeEvent(EventType::kWorkerStarted, slot.get()));
  absl::Status status = slot->worker->Start(absl::Now() + absl::FromChrono(config_.startup_timeout));
  std::vector<Dispatch> work;
  bool recovered = false;
  {
    MutexLock lock(&mu_);
    if (status.ok() && (slot->state != WorkerState::kStarting || closed_)) {
      status = closed_ ? absl::CancelledError(absl::StrCat("pool '", name(), "' is shutting down"))
                       : absl::UnavailableError("the worker exited right after start-up");
    }
    if (status.ok()) {
      MarkReady(*slot);
      consecutive_start_failures_ = 0;
      recovered = std::exchange(degraded_, false);
      work = TakeQueuedWork();
    }
  }
  if (!status.ok()) {
    Event failed = MakeEvent(EventType::kWorkerStartFailed, slot.get());
    failed.message = std::string(status.message());
    Emit(std::move(failed));
    RemoveSlot(slot);
    return status;
  }
  Emit(MakeEvent(EventType::kWorkerReady, slot.get()));
  CheckProfileFit(*slot);
  if (recovered) {
    logger()->info("pool '{}': recovered, worker {}-{} started", name(), name(), slot->id);
    Emit(MakeEvent(EventType::kPoolRecovered, nullptr));
  }
  for (const Dispatch& w : work) Send(w);
  return absl::OkStatus();
}

void Pool::RemoveSlot(const std::shared_ptr<Slot>& slot) {
  std::unique_ptr<WorkerProfile> worker;
  {
    MutexLock lock(&mu_);
    // The slot is dead or stopped, so it gets no new calls; its last calls
    // end promptly (a dead or stopped worker's channel is aborted), and a
    // probe hand-off takes microseconds.
    auto idle = [&slot]() { return !slot->probing && slot->in_flight == 0; };
    if (!mu_.AwaitWithTimeout(Condition(&idle), absl::Seconds(10))) {
      logger()->error("pool '{}': worker {}-{} still has {} calls after it stopped", name(), name(), slot->id,
                      slot->in_flight);
    }
    slots_.erase(std::remove(slots_.begin(), slots_.end(), slot), slots_.end());
    // Taken under mu_, so a reader that holds mu_ (MakeEventLocked, stats)
    // sees either the worker or nothing.
    worker = std::move(slot->worker);
  }
  // Every call has replied; a reply may come from inside Execute(), so wait
  // for the sender to leave it too.
  while (slot->senders.load(std::memory_order_acquire) > 0) std::this_thread::yield();
  // Outside the lock: destruction waits for the worker's watcher thread and
  // RPC callbacks, which take mu_.
  worker.reset();
}

bool Pool::IsDead(const std::shared_ptr<Slot>& slot) const {
  MutexLock lock(&mu_);
  return slot->state == WorkerState::kDead;
}

std::shared_ptr<Pool::Slot> Pool::FindSlot(int id) const {
  for (const auto& s : slots_) {
    if (s->id == id) return s;
  }
  return nullptr;
}

std::vector<WorkerView> Pool::Workers() const {
  std::vector<WorkerView> views;
  MutexLock lock(&mu_);
  for (const auto& s : slots_) {
    views.push_back({s->id, s->worker ? s->worker->metadata().pid : 0, s->state, s->recycling, s->expires_at,
                     s->requests, s->request_limit});
  }
  return views;
}

absl::Status Pool::Recycle(int id, std::string reason, std::int64_t memory_bytes) {
  MutexLock lock(&mu_);
  std::shared_ptr<Slot> slot = FindSlot(id);
  if (slot == nullptr) return absl::NotFoundError(absl::StrCat("pool '", name(), "' has no worker ", id));
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("pool '", name(), "' is shutting down"));
  if (slot->state != WorkerState::kReady || slot->recycling) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", name(), "-", id, " is ",
                                                      std::string(WorkerStateName(slot->state)),
                                                      slot->recycling ? " and already being replaced" : ""));
  }
  slot->recycling = true;
  // Spawned under mu_, after the closed_ check: Shutdown() sets closed_
  // under mu_ before it joins the tasks, so no task can slip past the join.
  tasks_.Spawn([this, slot, reason = std::move(reason), memory_bytes]() mutable {
    RunRecycle(std::move(slot), std::move(reason), memory_bytes);
  });
  return absl::OkStatus();
}

void Pool::RunRecycle(std::shared_ptr<Slot> old, std::string reason, std::int64_t memory_bytes) {
  if (config_.max_surge == 0) {
    // No room above pool_size: drain first, then start the successor. The
    // pending start keeps callers queueing rather than failing meanwhile.
    {
      MutexLock lock(&mu_);
      if (old->successor_arranged) return;  // it died; the exit handler replaces it
      old->successor_arranged = true;
      ++pending_starts_;
    }
    Retire(old, reason, memory_bytes);
    StartReplacementWithBackoff();
    MutexLock lock(&mu_);
    --pending_starts_;
    return;
  }
  {
    // Wait for a surge slot; other recycles hold them for at most a start,
    // a drain and a kill grace.
    MutexLock lock(&mu_);
    auto can_go = [this, &old]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || old->state != WorkerState::kReady || surges_ < config_.max_surge;
    };
    const absl::Duration patience =
        absl::FromChrono(config_.startup_timeout + config_.drain_timeout + config_.kill_grace) + absl::Seconds(5);
    const bool go = mu_.AwaitWithTimeout(Condition(&can_go), patience);
    if (closed_ || old->successor_arranged) return;  // shutting down, or it died and is being replaced
    if (!go) {
      logger()->warn("pool '{}': recycle of worker {}-{} ({}) postponed: no surge slot freed up in {}", name(), name(),
                     old->id, reason, absl::FormatDuration(patience));
      old->recycling = false;  // a later tick may try again
      return;
    }
    old->successor_arranged = true;
    ++surges_;
  }
  // The old worker keeps serving until its successor is ready. False only
  // when the pool closes, and then Shutdown() stops every worker.
  if (StartReplacementWithBackoff()) Retire(old, reason, memory_bytes);
  MutexLock lock(&mu_);
  --surges_;
}

void Pool::Retire(const std::shared_ptr<Slot>& old, const std::string& reason, std::int64_t memory_bytes) {
  {
    MutexLock lock(&mu_);
    if (old->state == WorkerState::kReady) old->state = WorkerState::kDraining;
  }
  if (IsDead(old)) {  // crashed meanwhile: its crash event was sent; we own the removal
    RemoveSlot(old);
    return;
  }
  Event draining = MakeEvent(EventType::kWorkerDraining, old.get());
  draining.reason = reason;
  Emit(std::move(draining));
  int abandoned = 0;
  {
    MutexLock lock(&mu_);
    auto drained = [&old]() { return old->in_flight == 0 || old->state == WorkerState::kDead; };
    mu_.AwaitWithTimeout(Condition(&drained), absl::FromChrono(config_.drain_timeout));
    abandoned = old->state == WorkerState::kDead ? 0 : old->in_flight;
    if (old->state != WorkerState::kDead) old->state = WorkerState::kStopped;
  }
  if (IsDead(old)) {
    RemoveSlot(old);
    return;
  }
  if (abandoned > 0) {
    logger()->warn("pool '{}': worker {}-{} still had {} calls after drain_timeout; stopping it anyway", name(), name(),
                   old->id, abandoned);
  }
  Event recycled = MakeEvent(EventType::kWorkerRecycled, old.get());
  old->worker->Stop(absl::FromChrono(config_.kill_grace));
  recycled.reason = reason;
  recycled.memory_bytes = memory_bytes;
  {
    MutexLock lock(&mu_);
    ++recycles_[reason];
  }
  logger()->info("pool '{}': recycled worker {}-{} ({}; up {} ms, {} requests)", name(), name(), old->id, reason,
                 recycled.uptime.count(), recycled.requests);
  Emit(std::move(recycled));
  RemoveSlot(old);
}

bool Pool::StartReplacementWithBackoff() {
  absl::Duration delay = absl::FromChrono(config_.restart_backoff_initial);
  while (true) {
    Profile profile;
    {
      MutexLock lock(&mu_);
      if (closed_) return false;
      profile = running_profile_;
    }
    const absl::Status status = StartSlot(NewSlot(profile));
    if (status.ok()) return true;
    int failures = 0;
    bool now_degraded = false;
    {
      MutexLock lock(&mu_);
      if (closed_) return false;
      failures = ++consecutive_start_failures_;
      last_start_error_ = std::string(status.message());
      now_degraded = !degraded_ && failures >= config_.degraded_after_failures;
      degraded_ = degraded_ || now_degraded;
    }
    logger()->warn("pool '{}': worker start failed ({} in a row), retrying in {}: {}", name(), failures,
                   absl::FormatDuration(delay), std::string(status.message()));
    if (now_degraded) {
      logger()->error("pool '{}': degraded after {} failed starts in a row", name(), failures);
      Event degraded = MakeEvent(EventType::kPoolDegraded, nullptr);
      degraded.failures = failures;
      degraded.message = std::string(status.message());
      Emit(std::move(degraded));
      FailQueueIfHopeless();
    }
    Event backoff = MakeEvent(EventType::kRestartBackoff, nullptr);
    backoff.backoff = absl::ToChronoMilliseconds(delay);
    backoff.failures = failures;
    backoff.message = std::string(status.message());
    Emit(std::move(backoff));
    {
      MutexLock lock(&mu_);
      auto closed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_; };
      if (mu_.AwaitWithTimeout(Condition(&closed), delay)) return false;
    }
    delay = std::min(delay * 2, absl::FromChrono(config_.restart_backoff_max));
  }
}

void Pool::RunRestart(std::shared_ptr<Slot> dead) {
  RemoveSlot(dead);
  const bool started = StartReplacementWithBackoff();
  MutexLock lock(&mu_);
  --pending_starts_;
  if (started) ++restarts_;
}

void Pool::FailQueueIfHopeless() {
  std::vector<std::shared_ptr<Call>> hopeless;
  absl::Status why;
  {
    MutexLock lock(&mu_);
    if (!degraded_ || ReadyWorkers() > 0) return;
    hopeless = TakeQueue();
    why = DegradedError();
  }
  for (auto& c : hopeless) Complete(*c, why);
}

std::vector<std::shared_ptr<Pool::Call>> Pool::TakeQueue() {
  std::vector<std::shared_ptr<Call>> taken(queue_.begin(), queue_.end());
  queue_.clear();
  (void)NoteLoad(absl::Now());
  for (auto& c : taken) {
    c->queued = false;
    timer_.Cancel(c->timer);
  }
  return taken;
}

absl::Status Pool::DegradedError() const {
  return absl::UnavailableError(absl::StrCat("pool '", name(), "' is degraded: its last ", consecutive_start_failures_,
                                             " worker starts failed; last error: ", last_start_error_));
}

void Pool::MarkReady(Slot& slot) {
  slot.state = WorkerState::kReady;
  slot.started_at = absl::Now();
  slot.expires_at = slot.started_at + slot.lifetime;
}

void Pool::Kill(int id, std::string reason) {
  MutexLock lock(&mu_);
  std::shared_ptr<Slot> slot = FindSlot(id);
  if (slot == nullptr || !IsLive(slot->state) || !slot->kill_reason.empty()) return;
  logger()->warn("pool '{}': killing worker {}-{} ({})", name(), name(), id, reason);
  slot->kill_reason = std::move(reason);
  slot->worker->Kill();  // non-blocking; OnWorkerExit replaces it
}

void Pool::ArmKillTimer(Slot* slot, const std::shared_ptr<Call>& call) {
  if (config_.call_kill_timeout.count() <= 0) return;
  std::weak_ptr<Call> weak = call;
  const int id = slot->id;
  call->kill_timer = timer_.Schedule(call->deadline + absl::FromChrono(config_.call_kill_timeout), [this, weak, id] {
    std::shared_ptr<Call> c = weak.lock();
    if (c == nullptr) return;
    std::string worker_label;
    {
      MutexLock lock(&mu_);
      if (c->answered) return;
      worker_label = c->worker_label;
    }
    logger()->warn("pool '{}': command '{}' overran its deadline by call_kill_timeout ({} ms) on worker {}", name(),
                   c->command, config_.call_kill_timeout.count(), worker_label);
    Kill(id, "call_kill_timeout");
  });
}

void Pool::ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done) {
  std::shared_ptr<Slot> slot;
  {
    MutexLock lock(&mu_);
    slot = FindSlot(id);
    if (slot != nullptr && slot->state == WorkerState::kReady && !slot->probing) {
      slot->probing = true;
    } else {
      slot = nullptr;
    }
  }
  if (slot == nullptr) {
    done(absl::NotFoundError(absl::StrCat("pool '", name(), "': worker ", id, " is not ready")));
    return;
  }
  slot->worker->CheckHealth(absl::Now() + timeout, std::move(done));
  MutexLock lock(&mu_);
  slot->probing = false;
}

void Pool::RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes) {
  MutexLock lock(&mu_);
  if (std::shared_ptr<Slot> slot = FindSlot(id)) {
    slot->rss_bytes = rss_bytes;
    slot->pss_bytes = pss_bytes;
  }
}

Event Pool::MakeEvent(EventType type, const Slot* slot) const {
  MutexLock lock(&mu_);
  return MakeEventLocked(type, slot);
}

Event Pool::MakeEventLocked(EventType type, const Slot* slot) const {
  Event event;
  event.type = type;
  event.pool = name();
  event.time = std::chrono::system_clock::now();
  if (slot != nullptr) {
    event.worker_id = slot->id;
    event.pid = slot->worker ? slot->worker->metadata().pid : 0;
    event.requests = slot->requests;
    if (slot->state != WorkerState::kStarting)
      event.uptime = absl::ToChronoMilliseconds(absl::Now() - slot->started_at);
  }
  return event;
}

void Pool::Emit(Event event) const {
  if (events_) events_(std::move(event));
}

}  // namespace snakepit::internal
