// WorkerSupervisor: start-up, exits, kills, probes and shutdown.
// Replacement (recycle, restart, backoff) is in worker_replacement.cc.
#include "pool/worker_supervisor.h"

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// How long a hung worker has to give its Python stacks before its kill.
constexpr absl::Duration kStacksWait = absl::Seconds(1);

}  // namespace

WorkerSupervisor::WorkerSupervisor(PoolCore& core, PoolTelemetry& telemetry, CallRouter& router, WorkerFactory factory)
    : core_(core), telemetry_(telemetry), router_(router), factory_(std::move(factory)), rng_(std::random_device{}()) {}

WorkerSupervisor::~WorkerSupervisor() { Shutdown(); }

absl::Status WorkerSupervisor::Start() {
  const PoolConfig& config = core_.config;
  absl::Status status = StartBatches(config.profile);
  if (status.ok() || config.profile != Profile::kThread || !config.fallback_to_process) return status;
  logger()->warn("pool '{}': the thread profile could not start; falling back to the process profile. Reason: {}",
                 core_.name(), std::string(status.message()));
  {
    MutexLock lock(&core_.mu);
    core_.running_profile = Profile::kProcess;
    core_.fallback_reason = std::string(status.message());
  }
  return StartBatches(Profile::kProcess);
}

absl::Status WorkerSupervisor::StartBatches(Profile profile) {
  const PoolConfig& config = core_.config;
  // A remote pool's workers are added by its membership (AddWorker).
  const int total = config.remote ? 0 : config.effective_pool_size();
  const int batch = std::max(1, config.startup_batch_size);
  for (int first = 0; first < total; first += batch) {
    std::vector<std::shared_ptr<Slot>> fresh;
    for (int i = first; i < std::min(total, first + batch); ++i) fresh.push_back(NewSlot(profile));
    {
      MutexLock lock(&core_.mu);
      core_.slots.insert(core_.slots.end(), fresh.begin(), fresh.end());
    }
    // The whole batch at once: start-up time is mostly Python's import
    // time, which overlaps across processes.
    const absl::Time deadline = core_.clock.Now() + absl::FromChrono(config.startup_timeout);
    std::vector<absl::Status> results(fresh.size());
    for (const auto& slot : fresh) core_.Emit(core_.MakeEventUnlocked(EventType::kWorkerStarted, slot.get()));
    std::vector<std::thread> starters;
    for (size_t j = 0; j < fresh.size(); ++j) {
      starters.emplace_back([&, j] { results[j] = fresh[j]->worker->Start(deadline); });
    }
    for (std::thread& t : starters) t.join();

    absl::Status first_error;
    {
      MutexLock lock(&core_.mu);
      for (size_t j = 0; j < fresh.size(); ++j) {
        if (results[j].ok() && fresh[j]->state == WorkerState::kStarting) {
          MarkReady(*fresh[j]);
        } else if (first_error.ok()) {
          first_error = results[j].ok() ? absl::UnavailableError("worker exited during start-up") : results[j];
        }
      }
    }
    for (size_t j = 0; j < fresh.size(); ++j) {
      if (!results[j].ok()) continue;
      core_.Emit(core_.MakeEventUnlocked(EventType::kWorkerReady, fresh[j].get()));
      telemetry_.CheckProfileFit(*fresh[j], profile);
    }
    if (!first_error.ok()) {
      Event failed = core_.MakeEventUnlocked(EventType::kWorkerStartFailed, nullptr);
      failed.message = std::string(first_error.message());
      core_.Emit(std::move(failed));
      std::vector<std::shared_ptr<Slot>> all;
      {
        MutexLock lock(&core_.mu);
        all.swap(core_.slots);
      }
      StopSlots(std::move(all));
      return first_error;
    }
    logger()->debug("pool '{}': {} of {} workers ready", core_.name(), first + fresh.size(), total);
  }
  return absl::OkStatus();
}

std::shared_ptr<Slot> WorkerSupervisor::NewSlot(Profile profile) {
  const PoolConfig& config = core_.config;
  auto slot = std::make_shared<Slot>();
  {
    MutexLock lock(&core_.mu);
    slot->id = next_worker_id_++;
    if (config.worker_max_requests > 0) {
      std::uniform_int_distribution<std::int64_t> extra(0, config.worker_max_requests_jitter);
      slot->request_limit = static_cast<std::uint64_t>(config.worker_max_requests + extra(rng_));
    }
    if (config.worker_ttl.count() > 0) {
      std::uniform_int_distribution<std::int64_t> extra(0, config.worker_ttl_jitter.count());
      slot->lifetime = absl::Milliseconds(config.worker_ttl.count() + extra(rng_));
    }
  }
  Slot* raw = slot.get();
  slot->worker = factory_(profile, slot->id, [this, raw](const ExitInfo& info) { OnWorkerExit(raw, info); });
  slot->label = slot->worker->metadata().label;
  slot->capacity = slot->worker->capacity();
  return slot;
}

absl::Status WorkerSupervisor::StartSlot(const std::shared_ptr<Slot>& slot) {
  {
    MutexLock lock(&core_.mu);
    if (core_.closed) return absl::CancelledError(absl::StrCat("pool '", core_.name(), "' is shutting down"));
    core_.slots.push_back(slot);
  }
  core_.Emit(core_.MakeEventUnlocked(EventType::kWorkerStarted, slot.get()));
  absl::Status status = slot->worker->Start(core_.clock.Now() + absl::FromChrono(core_.config.startup_timeout));
  bool recovered = false;
  Profile profile;
  {
    MutexLock lock(&core_.mu);
    profile = core_.running_profile;
    if (status.ok() && (slot->state != WorkerState::kStarting || core_.closed)) {
      status = core_.closed ? absl::CancelledError(absl::StrCat("pool '", core_.name(), "' is shutting down"))
                            : absl::UnavailableError("the worker exited right after start-up");
    }
    if (status.ok()) {
      MarkReady(*slot);
      core_.consecutive_start_failures = 0;
      recovered = std::exchange(core_.degraded, false);
      if (core_.surplus > 0) {
        // The pool shrank while this worker started, with no ready worker
        // to remove then: this one gives its place up.
        --core_.surplus;
        MarkLeaving(*slot);
        tasks_.Spawn([this, slot] { Retire(slot, "scale_down", 0); });
      }
    }
  }
  if (!status.ok()) {
    Event failed = core_.MakeEventUnlocked(EventType::kWorkerStartFailed, slot.get());
    failed.message = std::string(status.message());
    core_.Emit(std::move(failed));
    RemoveSlot(slot);
    return status;
  }
  core_.Emit(core_.MakeEventUnlocked(EventType::kWorkerReady, slot.get()));
  telemetry_.CheckProfileFit(*slot, profile);
  if (recovered) {
    logger()->info("pool '{}': recovered, worker {} started", core_.name(), slot->label);
    core_.Emit(core_.MakeEventUnlocked(EventType::kPoolRecovered, nullptr));
  }
  router_.DispatchQueued();
  return absl::OkStatus();
}

absl::Status WorkerSupervisor::AddWorker() {
  Profile profile;
  {
    MutexLock lock(&core_.mu);
    profile = core_.running_profile;
  }
  return StartSlot(NewSlot(profile));
}

void WorkerSupervisor::RetireWorker(int id, std::string reason) {
  MutexLock lock(&core_.mu);
  std::shared_ptr<Slot> slot = core_.Find(id);
  if (slot == nullptr || core_.closed || slot->replacement != Replacement::kNone || !slot->live()) return;
  slot->replacement = Replacement::kCommitted;  // no successor, and the exit handler starts none
  tasks_.Spawn([this, slot, reason = std::move(reason)] { Retire(slot, reason, 0); });
}

void WorkerSupervisor::MarkReady(Slot& slot) {
  // A remote worker learns its capacity from its Stats during Start().
  slot.capacity = slot.worker->capacity();
  slot.state = WorkerState::kReady;
  if (core_.transport_fallback.empty()) {
    const WorkerMetadata md = slot.worker->metadata();
    if (!md.transport_note.empty()) {
      core_.transport_fallback = md.transport_note;
      // Asked for shm: a warning. "auto": what it could, said once.
      const bool asked = core_.config.worker_transport == WorkerTransport::kShm;
      logger()->log(asked ? spdlog::level::warn : spdlog::level::info,
                    "pool '{}': calls go over gRPC ({} transport), not shared memory: {}", core_.name(), md.transport,
                    md.transport_note);
    }
  }
  slot.started_at = core_.clock.Now();
  slot.expires_at = slot.started_at + slot.lifetime;
}

void WorkerSupervisor::RemoveSlot(const std::shared_ptr<Slot>& slot) {
  std::unique_ptr<Worker> worker;
  {
    MutexLock lock(&core_.mu);
    // The slot is dead or stopped, so it gets no new calls; its last calls
    // end promptly (a dead or stopped worker's channel is aborted).
    auto idle = [&slot]() { return slot->in_flight == 0; };
    if (!core_.clock.AwaitUntil(&core_.mu, Condition(&idle), core_.clock.Now() + absl::Seconds(10))) {
      logger()->error("pool '{}': worker {} still has {} calls after it stopped", core_.name(), slot->label,
                      slot->in_flight);
    }
    std::erase(core_.slots, slot);
    if (slot->leaving) --core_.leaving;
    core_.affinity.DropWorker(slot->id);  // its keys re-home
    // Under mu, so a reader that holds mu (events, stats) sees either the
    // worker or nothing.
    worker = std::move(slot->worker);
  }
  // A reply may come from inside Execute(), and a probe is handed over
  // outside the lock: wait for those hand-offs to leave the worker. Each
  // takes microseconds (Worker methods never block).
  for (int n = slot->handoffs.load(std::memory_order_acquire); n > 0; n = slot->handoffs.load()) {
    slot->handoffs.wait(n, std::memory_order_acquire);
  }
  // Outside the lock: destruction waits for the worker's watcher thread and
  // RPC callbacks, which take mu.
  worker.reset();
}

void WorkerSupervisor::StopSlots(std::vector<std::shared_ptr<Slot>> slots) {
  std::vector<absl::Duration> graces;
  {
    MutexLock lock(&core_.mu);
    for (auto& s : slots) {
      if (s->state != WorkerState::kDead) s->state = WorkerState::kStopped;
      // A worker busy only with calls whose callers have gone (deadline,
      // cancel) has nothing worth a grace period: it is killed at once.
      const bool only_abandoned = s->in_flight > 0 && s->in_flight == s->abandoned;
      graces.push_back(only_abandoned ? absl::ZeroDuration() : absl::FromChrono(core_.config.kill_grace));
    }
  }
  std::vector<std::thread> stoppers;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    stoppers.emplace_back([s = slots[i], grace = graces[i]] { s->worker->Stop(grace); });
  }
  for (std::thread& t : stoppers) t.join();
  // Destroying a worker waits for its last RPC callback, so no callback can
  // touch a slot after this.
  for (auto& s : slots) RemoveSlot(s);
}

void WorkerSupervisor::OnWorkerExit(Slot* slot, const ExitInfo& info) {
  // Runs on the worker's watcher thread, the moment the process is reaped.
  // Calls in flight on it are already failing with UNAVAILABLE (the worker
  // aborted its channel before calling us); here the slot stops taking
  // calls and a replacement is arranged.
  std::string kill_reason;
  Event event;
  std::vector<std::pair<std::shared_ptr<Call>, absl::Status>> parked;
  bool stopped = false;
  {
    MutexLock lock(&core_.mu);
    const WorkerState previous = slot->state;
    slot->state = WorkerState::kDead;
    parked.swap(slot->parked);
    // Stopped by us, or failed during start-up (the starter reports that).
    stopped = previous != WorkerState::kReady && previous != WorkerState::kDraining;
    if (!stopped) {
      if (slot->fault == Fault::kKilled) kill_reason = slot->kill_reason;
      // Now, before the restart below can remove the slot and its worker.
      event = core_.MakeEvent(kill_reason.empty() ? EventType::kWorkerCrashed : EventType::kWorkerRecycled, slot);
      event.python_stacks = slot->kill_stacks;
      if (kill_reason.empty()) {
        telemetry_.CountCrash();
      } else {
        telemetry_.CountRecycle(kill_reason);
      }
      // A recycle that committed to a successor starts it itself. Removed
      // without a successor: an ejected remote worker (the membership
      // readmits the address after a backoff), or a worker whose place a
      // shrink gave up while it could not be removed.
      const bool remote = core_.config.remote.has_value();
      if (slot->replacement != Replacement::kCommitted && !core_.closed && (remote || core_.surplus > 0)) {
        if (!remote) --core_.surplus;
        slot->replacement = Replacement::kCommitted;
        tasks_.Spawn([this, dead = core_.Find(slot->id)] { RemoveSlot(dead); });
      } else if (slot->replacement != Replacement::kCommitted && !core_.closed) {
        slot->replacement = Replacement::kCommitted;
        ++core_.pending_starts;
        // Under mu, after the closed check: Shutdown() sets closed under mu
        // before it joins the tasks, so no task can slip past the join.
        tasks_.Spawn([this, dead = core_.Find(slot->id)]() mutable { RunRestart(std::move(dead)); });
      }
    }
  }
  if (stopped) {
    router_.ReleaseParked(std::move(parked), slot->label, info.ToString());
    return;
  }
  event.reason = kill_reason;
  if (info.signal != 0) {
    event.signal = info.signal;
  } else {
    event.exit_code = info.exit_code;
  }
  event.message = info.ToString();
  if (kill_reason.empty()) {
    logger()->error("pool '{}': worker {} (pid {}) died: {}", core_.name(), slot->label, event.pid, info.ToString());
  }
  router_.ReleaseParked(std::move(parked), slot->label,
                        kill_reason.empty() ? info.ToString() : absl::StrCat(info.ToString(), ", ", kill_reason));
  core_.Emit(std::move(event));
  // If the pool is degraded, the calls queued for this worker have no one
  // left to wait for; strict affinity calls that waited for it re-home.
  router_.FailQueueIfHopeless();
  router_.DispatchQueued();
}

void WorkerSupervisor::Kill(int id, std::string reason) {
  MutexLock lock(&core_.mu);
  std::shared_ptr<Slot> slot = core_.Find(id);
  if (slot == nullptr || !slot->live() || slot->fault == Fault::kKilled) return;
  logger()->warn("pool '{}': killing worker {} ({})", core_.name(), slot->label, reason);
  slot->fault = Fault::kKilled;  // no call is routed to it from now on
  slot->kill_reason = std::move(reason);
  // A worker killed for hanging is asked where it hangs first: the most
  // useful line of its post-mortem. That waits, so not on the caller's
  // thread (the timer's or the lifecycle manager's); spawned under mu after
  // the closed check, like every task.
  // A remote worker's stacks are on its own host: it is ejected at once.
  const bool hung =
      !core_.config.remote && (slot->kill_reason == "call_kill_timeout" || slot->kill_reason == "health_check");
  if (hung && !core_.closed) {
    tasks_.Spawn([this, slot] { DumpStacksThenKill(slot); });
    return;
  }
  slot->worker->Kill();  // non-blocking; OnWorkerExit replaces it
}

void WorkerSupervisor::DumpStacksThenKill(const std::shared_ptr<Slot>& slot) {
  Worker* worker = nullptr;
  std::optional<HandoffScope> handoff;
  {
    MutexLock lock(&core_.mu);
    if (!slot->live() || slot->worker == nullptr) return;
    worker = slot->worker.get();
    handoff.emplace(*slot);  // under mu: RemoveSlot waits for it
  }
  // Real time: a real process answers, or not, on the wall clock.
  std::string stacks = worker->DumpStacks(absl::Now() + kStacksWait);
  if (stacks.empty()) {
    logger()->warn("pool '{}': worker {} gave no Python stacks within {} before its kill", core_.name(), slot->label,
                   absl::FormatDuration(kStacksWait));
  } else {
    logger()->warn("pool '{}': Python stacks of worker {} before its kill ({}):\n{}", core_.name(), slot->label,
                   slot->kill_reason, stacks);
  }
  {
    MutexLock lock(&core_.mu);
    slot->kill_stacks = std::move(stacks);
  }
  worker->Kill();
}

void WorkerSupervisor::ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done) {
  std::shared_ptr<Slot> slot;
  Worker* worker = nullptr;
  std::optional<HandoffScope> handoff;
  {
    MutexLock lock(&core_.mu);
    slot = core_.Find(id);
    if (slot != nullptr && slot->state == WorkerState::kReady) {
      worker = slot->worker.get();
      handoff.emplace(*slot);  // under mu: RemoveSlot waits for it
    }
  }
  if (worker == nullptr) {
    done(absl::NotFoundError(absl::StrCat("pool '", core_.name(), "': worker ", id, " is not ready")));
    return;
  }
  worker->CheckHealth(core_.clock.Now() + timeout, std::move(done));
}

void WorkerSupervisor::RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes) {
  MutexLock lock(&core_.mu);
  if (std::shared_ptr<Slot> slot = core_.Find(id)) {
    slot->rss_bytes = rss_bytes;
    slot->pss_bytes = pss_bytes;
  }
}

std::vector<WorkerView> WorkerSupervisor::Workers() const {
  std::vector<WorkerView> views;
  MutexLock lock(&core_.mu);
  for (const auto& s : core_.slots) {
    views.push_back({s->id, s->worker ? s->worker->metadata().pid : 0, s->state, s->replacement != Replacement::kNone,
                     s->expires_at, s->requests, s->request_limit});
  }
  return views;
}

std::map<int, absl::StatusOr<nlohmann::json>> WorkerSupervisor::WorkerDiagnostics(absl::Time deadline) const {
  // Shared with the callbacks, which may outlive this call if a worker
  // answers after the deadline.
  struct Gathering {
    Mutex mu;
    std::map<int, absl::StatusOr<nlohmann::json>> answers ABSL_GUARDED_BY(mu);
    int pending ABSL_GUARDED_BY(mu) = 0;
  };
  auto gathering = std::make_shared<Gathering>();
  std::vector<int> asked;
  {
    MutexLock lock(&core_.mu);
    for (const auto& s : core_.slots) {
      if (!s->live()) continue;
      asked.push_back(s->id);
      {
        MutexLock g(&gathering->mu);
        ++gathering->pending;
      }
      // Under mu, so the worker cannot be destroyed meanwhile (RemoveSlot
      // takes it under mu); Diagnostics() never blocks.
      s->worker->Diagnostics(deadline, [gathering, id = s->id](absl::StatusOr<nlohmann::json> answer) {
        MutexLock g(&gathering->mu);
        gathering->answers.emplace(id, std::move(answer));
        --gathering->pending;
      });
    }
  }
  MutexLock g(&gathering->mu);
  auto done = [&gathering]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(gathering->mu) { return gathering->pending == 0; };
  gathering->mu.AwaitWithDeadline(Condition(&done), deadline + absl::Seconds(1));
  std::map<int, absl::StatusOr<nlohmann::json>> answers = gathering->answers;
  for (int id : asked) {
    if (!answers.contains(id)) {
      answers.emplace(id,
                      absl::DeadlineExceededError(absl::StrCat("worker ", core_.name(), "-", id, " did not answer")));
    }
  }
  return answers;
}

void WorkerSupervisor::Shutdown() {
  {
    MutexLock lock(&core_.mu);
    if (core_.closed && core_.slots.empty()) return;
    core_.closed = true;
  }
  router_.FailQueue(absl::UnavailableError(absl::StrCat("pool '", core_.name(), "' is shutting down")));
  // Replacement scripts see `closed` and finish: a backoff wait ends at
  // once, a start in progress within startup_timeout, a drain below.
  tasks_.JoinAll();
  if (!router_.AwaitIdle(core_.clock.Now() + absl::FromChrono(core_.config.drain_timeout))) {
    logger()->warn("pool '{}': calls still running after drain_timeout; stopping workers anyway", core_.name());
  }
  std::vector<std::shared_ptr<Slot>> slots;
  {
    MutexLock lock(&core_.mu);
    slots.swap(core_.slots);
  }
  StopSlots(std::move(slots));
}

}  // namespace snakepit::internal
