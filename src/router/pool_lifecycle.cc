// Pool start-up, worker exits, shutdown and stats.
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "process/child_process.h"
#include "router/pool_internal.h"
#include "snakepit/logging.h"

namespace snakepit::internal {

Pool::Pool(PoolConfig config, WorkerFactory factory, EventSink events, EventsWanted events_wanted)
    : config_(std::move(config)),
      factory_(std::move(factory)),
      events_(std::move(events)),
      events_wanted_(std::move(events_wanted)),
      running_profile_(config_.profile),
      rng_(std::random_device{}()) {}

Pool::~Pool() { Shutdown(); }

absl::Status Pool::Start() {
  absl::Status status = StartWorkers(config_.profile);
  if (status.ok() || config_.profile != Profile::kThread || !config_.fallback_to_process) return status;
  logger()->warn("pool '{}': the thread profile could not start; falling back to the process profile. Reason: {}",
                 name(), std::string(status.message()));
  {
    MutexLock lock(&mu_);
    running_profile_ = Profile::kProcess;
    fallback_reason_ = std::string(status.message());
  }
  return StartWorkers(Profile::kProcess);
}

absl::Status Pool::StartWorkers(Profile profile) {
  const int total = config_.effective_pool_size();
  const int batch = std::max(1, config_.startup_batch_size);
  for (int first = 0; first < total; first += batch) {
    std::vector<std::shared_ptr<Slot>> fresh;
    for (int i = first; i < std::min(total, first + batch); ++i) fresh.push_back(NewSlot(profile));
    {
      MutexLock lock(&mu_);
      slots_.insert(slots_.end(), fresh.begin(), fresh.end());
    }
    // Spawn the whole batch at once: start-up time is mostly Python's import
    // time, which overlaps across processes.
    const absl::Time deadline = absl::Now() + absl::FromChrono(config_.startup_timeout);
    std::vector<absl::Status> results(fresh.size());
    for (const auto& slot : fresh) Emit(MakeEvent(EventType::kWorkerStarted, slot.get()));
    std::vector<std::thread> starters;
    for (size_t j = 0; j < fresh.size(); ++j) {
      starters.emplace_back([&, j] { results[j] = fresh[j]->worker->Start(deadline); });
    }
    for (std::thread& t : starters) t.join();

    absl::Status first_error;
    {
      MutexLock lock(&mu_);
      for (size_t j = 0; j < fresh.size(); ++j) {
        if (results[j].ok() && fresh[j]->state == WorkerState::kStarting) {
          MarkReady(*fresh[j]);
        } else if (first_error.ok()) {
          first_error = results[j].ok() ? absl::UnavailableError("worker exited during start-up") : results[j];
        }
      }
    }
    for (size_t j = 0; j < fresh.size(); ++j) {
      if (results[j].ok()) {
        Emit(MakeEvent(EventType::kWorkerReady, fresh[j].get()));
        CheckProfileFit(*fresh[j]);
      }
    }
    if (!first_error.ok()) {
      Event failed = MakeEvent(EventType::kWorkerStartFailed, nullptr);
      failed.message = std::string(first_error.message());
      Emit(std::move(failed));
      std::vector<std::shared_ptr<Slot>> all;
      {
        MutexLock lock(&mu_);
        all.swap(slots_);
      }
      StopSlots(std::move(all));
      return first_error;
    }
    logger()->debug("pool '{}': {} of {} workers ready", name(), first + fresh.size(), total);
  }
  return absl::OkStatus();
}

void Pool::StopSlots(std::vector<std::shared_ptr<Slot>> slots) {
  {
    MutexLock lock(&mu_);
    for (auto& s : slots) {
      if (s->state != WorkerState::kDead) s->state = WorkerState::kStopped;
    }
  }
  std::vector<std::thread> stoppers;
  for (auto& s : slots) {
    stoppers.emplace_back([this, s] { s->worker->Stop(absl::FromChrono(config_.kill_grace)); });
  }
  for (std::thread& t : stoppers) t.join();
  // Destroying a worker waits for its last RPC callback, so no callback can
  // touch a slot after this.
  for (auto& s : slots) s->worker.reset();
}

void Pool::OnWorkerExit(Slot* slot, const ExitInfo& info) {
  // Runs on the worker's watcher thread, the moment the process is reaped.
  // Calls in flight on it are already failing with UNAVAILABLE (the worker
  // aborted its channel before calling us); here the slot stops taking
  // calls and a replacement is arranged.
  std::string kill_reason;
  Event event;
  {
    MutexLock lock(&mu_);
    const WorkerState previous = slot->state;
    slot->state = WorkerState::kDead;
    // Stopped by us, or failed during start-up (the starter reports that).
    if (previous != WorkerState::kReady && previous != WorkerState::kDraining) return;
    kill_reason = slot->kill_reason;
    // Now, before the restart below can remove the slot and its worker.
    event = MakeEventLocked(kill_reason.empty() ? EventType::kWorkerCrashed : EventType::kWorkerRecycled, slot);
    if (kill_reason.empty()) {
      ++crashes_;
    } else {
      ++recycles_[kill_reason];
    }
    // A worker being recycled may already have its successor arranged.
    if (!slot->successor_arranged && !closed_) {
      slot->successor_arranged = true;
      ++pending_starts_;
      // Under mu_, after the closed_ check: see Recycle().
      tasks_.Spawn([this, dead = FindSlot(slot->id)]() mutable { RunRestart(std::move(dead)); });
    }
  }
  event.reason = kill_reason;
  if (info.signal != 0) {
    event.signal = info.signal;
  } else {
    event.exit_code = info.exit_code;
  }
  event.message = info.ToString();
  if (kill_reason.empty()) {
    logger()->error("pool '{}': worker {}-{} (pid {}) died: {}", name(), name(), slot->id, event.pid, info.ToString());
  }
  Emit(std::move(event));
  // If the pool is degraded, the calls queued for this worker have no one
  // left to wait for.
  FailQueueIfHopeless();
}

void Pool::Shutdown() {
  std::vector<std::shared_ptr<Call>> queued;
  {
    MutexLock lock(&mu_);
    if (closed_ && slots_.empty()) return;
    closed_ = true;
    queued = TakeQueue();
  }
  for (auto& c : queued) {
    Complete(*c, absl::UnavailableError(absl::StrCat("pool '", name(), "' is shutting down")));
  }
  // Maintenance scripts see closed_ and finish: a backoff wait ends at
  // once, a start in progress within startup_timeout, a drain below.
  tasks_.JoinAll();
  std::vector<std::shared_ptr<Slot>> slots;
  {
    MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    if (!mu_.AwaitWithTimeout(Condition(&drained), absl::FromChrono(config_.drain_timeout))) {
      logger()->warn("pool '{}': {} calls still running after drain_timeout; stopping workers anyway", name(),
                     in_flight_);
    }
    slots.swap(slots_);
  }
  StopSlots(std::move(slots));
}

PoolStats Pool::Stats() const {
  PoolStats stats;
  stats.name = config_.name;
  const absl::Time now = absl::Now();
  MutexLock lock(&mu_);
  stats.profile = running_profile_;
  stats.fallback_reason = fallback_reason_;
  stats.in_flight = in_flight_;
  stats.queued = static_cast<int>(queue_.size());
  stats.max_queue = config_.max_queue;
  stats.queue_high_water = queue_high_water_;
  stats.requests = requests_;
  stats.errors = errors_;
  stats.timeouts = timeouts_.load(std::memory_order_relaxed);
  stats.rejected = rejected_;
  stats.late_replies_discarded = late_replies_;
  stats.retries = retries_;
  stats.degraded = degraded_;
  stats.last_start_error = last_start_error_;
  stats.consecutive_start_failures = consecutive_start_failures_;
  stats.crashes = crashes_;
  stats.restarts = restarts_;
  stats.recycles = recycles_;
  stats.threads_per_worker = running_profile_ == Profile::kThread ? config_.effective_threads_per_worker() : 1;
  stats.uptime = absl::ToChronoMilliseconds(now - created_at_);
  stats.latency = latency_.Snapshot();
  stats.busy_time = absl::ToChronoNanoseconds(busy_total_);
  stats.cpu_time = absl::ToChronoNanoseconds(cpu_total_);
  stats.queue_nonempty_time = absl::ToChronoNanoseconds(queue_clock_.Total(now));
  stats.capacity_full_time = absl::ToChronoNanoseconds(full_clock_.Total(now));
  for (const auto& s : slots_) {
    WorkerStats w;
    w.id = s->id;
    // A worker whose channel broke is as good as dead (it gets no calls and
    // is killed if its exit is not seen soon): never report it ready.
    w.state = s->suspect && s->state == WorkerState::kReady ? WorkerState::kDead : s->state;
    w.capacity = s->worker ? s->worker->capacity() : 0;
    w.in_flight = s->in_flight;
    w.requests = s->requests;
    w.age = absl::ToChronoMilliseconds(now - s->started_at);
    w.request_limit = s->request_limit;
    w.recycling = s->recycling;
    w.rss_bytes = s->rss_bytes;
    w.pss_bytes = s->pss_bytes;
    w.busy_time = absl::ToChronoNanoseconds(s->busy);
    w.cpu_time = absl::ToChronoNanoseconds(s->cpu);
    if (s->worker) {
      const WorkerMetadata md = s->worker->metadata();
      w.address = md.address;
      w.python_version = md.python_version;
      w.free_threaded = md.free_threaded;
      w.gil_enabled = md.gil_enabled;
      w.loaded_libraries = md.loaded_libraries;
      w.pid = md.pid;
    }
    if (w.state == WorkerState::kReady || w.state == WorkerState::kDraining) {
      ++stats.workers;
      stats.capacity += w.capacity;
    }
    stats.per_worker.push_back(w);
  }
  return stats;
}

}  // namespace snakepit::internal
