// Pool start-up, worker exits, shutdown and stats.
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "process/child_process.h"
#include "router/pool_internal.h"
#include "snakepit/logging.h"

namespace snakepit::internal {

Pool::Pool(PoolConfig config, WorkerFactory factory)
    : config_(std::move(config)), factory_(std::move(factory)), running_profile_(config_.profile) {}

Pool::~Pool() { Shutdown(); }

absl::Status Pool::Start() {
  absl::Status status = StartWorkers(config_.profile);
  if (status.ok() || config_.profile != Profile::kThread || !config_.fallback_to_process) return status;
  logger()->warn("pool '{}': the thread profile could not start; falling back to the process profile. Reason: {}",
                 name(), std::string(status.message()));
  {
    absl::MutexLock lock(&mu_);
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
    for (int i = first; i < std::min(total, first + batch); ++i) {
      auto slot = std::make_shared<Slot>();
      {
        absl::MutexLock lock(&mu_);
        slot->id = next_worker_id_++;
      }
      Slot* raw = slot.get();
      slot->worker = factory_(profile, slot->id, [this, raw](const ExitInfo& info) { OnWorkerExit(raw, info); });
      fresh.push_back(std::move(slot));
    }
    {
      absl::MutexLock lock(&mu_);
      slots_.insert(slots_.end(), fresh.begin(), fresh.end());
    }
    // Spawn the whole batch at once: start-up time is mostly Python's import
    // time, which overlaps across processes.
    const absl::Time deadline = absl::Now() + absl::FromChrono(config_.startup_timeout);
    std::vector<absl::Status> results(fresh.size());
    std::vector<std::thread> starters;
    for (size_t j = 0; j < fresh.size(); ++j) {
      starters.emplace_back([&, j] { results[j] = fresh[j]->worker->Start(deadline); });
    }
    for (std::thread& t : starters) t.join();

    absl::Status first_error;
    {
      absl::MutexLock lock(&mu_);
      for (size_t j = 0; j < fresh.size(); ++j) {
        if (results[j].ok() && fresh[j]->state == WorkerState::kStarting) {
          fresh[j]->state = WorkerState::kReady;
          fresh[j]->started_at = absl::Now();
        } else if (first_error.ok()) {
          first_error = results[j].ok() ? absl::UnavailableError("worker exited during start-up") : results[j];
        }
      }
    }
    if (!first_error.ok()) {
      std::vector<std::shared_ptr<Slot>> all;
      {
        absl::MutexLock lock(&mu_);
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
    absl::MutexLock lock(&mu_);
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
  std::vector<std::shared_ptr<Call>> orphans;
  {
    absl::MutexLock lock(&mu_);
    const WorkerState previous = slot->state;
    slot->state = WorkerState::kDead;
    if (previous == WorkerState::kStopped || previous == WorkerState::kStarting) return;
    logger()->error("pool '{}': worker {}-{} (pid {}) died: {}", name(), name(), slot->id, slot->worker->metadata().pid,
                    info.ToString());
    if (LiveWorkers() == 0) {
      orphans.assign(queue_.begin(), queue_.end());
      queue_.clear();
      for (auto& c : orphans) {
        c->queued = false;
        timer_.Cancel(c->timer);
      }
    }
  }
  for (auto& c : orphans) {
    Complete(*c, absl::UnavailableError(absl::StrCat("pool '", name(), "' has no live workers (worker ", name(), "-",
                                                     slot->id, " ", info.ToString(), ")")));
  }
}

void Pool::Shutdown() {
  std::vector<std::shared_ptr<Call>> queued;
  {
    absl::MutexLock lock(&mu_);
    if (closed_ && slots_.empty()) return;
    closed_ = true;
    queued.assign(queue_.begin(), queue_.end());
    queue_.clear();
    for (auto& c : queued) {
      c->queued = false;
      timer_.Cancel(c->timer);
    }
  }
  for (auto& c : queued) {
    Complete(*c, absl::UnavailableError(absl::StrCat("pool '", name(), "' is shutting down")));
  }
  std::vector<std::shared_ptr<Slot>> slots;
  {
    absl::MutexLock lock(&mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
    if (!mu_.AwaitWithTimeout(absl::Condition(&drained), absl::FromChrono(config_.drain_timeout))) {
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
  absl::MutexLock lock(&mu_);
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
  for (const auto& s : slots_) {
    WorkerStats w;
    w.id = s->id;
    w.pid = s->worker ? s->worker->metadata().pid : 0;
    w.state = s->state;
    w.capacity = s->worker ? s->worker->capacity() : 0;
    w.in_flight = s->in_flight;
    w.requests = s->requests;
    w.age = absl::ToChronoMilliseconds(now - s->started_at);
    if (s->state == WorkerState::kReady || s->state == WorkerState::kDraining) {
      ++stats.workers;
      stats.capacity += w.capacity;
    }
    stats.per_worker.push_back(w);
  }
  return stats;
}

}  // namespace snakepit::internal
