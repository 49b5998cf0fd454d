#include "lifecycle/lifecycle_manager.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
absl::Duration LifecycleManager::TickFor(const PoolConfig& config) {
  absl::Duration tick = absl::Milliseconds(100);
  tick = std::min(tick, absl::FromChrono(config.memory_check_interval));
  if (config.health_check_interval.count() > 0) tick = std::min(tick, absl::FromChrono(config.health_check_interval));
  return std::max(tick, absl::Milliseconds(10));
}

LifecycleManager::MemoryReader LifecycleManager::DefaultMemoryReader() {
  return [](int pid) { return ReadProcessTreeMemory(pid); };
}

LifecycleManager::LifecycleManager(ManagedPool& pool, Clock& clock, MemoryReader read_memory, Mode mode)
    : pool_(pool),
      clock_(clock),
      read_memory_(std::move(read_memory)),
      config_(pool.config()),
      tick_(TickFor(config_)) {
  if (mode == Mode::kThread) thread_ = std::thread([this] { Run(); });
}

LifecycleManager::~LifecycleManager() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Probes hold `this`; each ends by its health_check_timeout deadline.
  MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return probes_in_flight_ == 0; };
  mu_.Await(Condition(&idle));
}

void LifecycleManager::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (clock_.AwaitUntil(&mu_, Condition(&stopping), clock_.Now() + tick_)) return;
    }
    Tick();
  }
}

void LifecycleManager::Tick() {
  const absl::Time now = clock_.Now();
  const std::vector<WorkerView> workers = pool_.Workers();
  std::vector<int> to_probe;
  std::vector<WorkerView> to_measure;
  {
    MutexLock lock(&mu_);
    std::set<int> present;
    for (const WorkerView& w : workers) present.insert(w.id);
    std::erase_if(watches_, [&](const auto& entry) { return !present.contains(entry.first); });
    for (const WorkerView& w : workers) {
      if (w.state != WorkerState::kReady) continue;
      auto [it, fresh] = watches_.try_emplace(w.id);
      Watch& watch = it->second;
      watch.pid = w.pid;
      if (fresh) {
        watch.next_memory_check = now;
        watch.next_health_check = now + absl::FromChrono(config_.health_check_interval);
      }
      if (now >= watch.next_memory_check) {
        watch.next_memory_check = now + absl::FromChrono(config_.memory_check_interval);
        to_measure.push_back(w);
      }
      if (config_.health_check_interval.count() > 0 && now >= watch.next_health_check && !watch.probing) {
        watch.next_health_check = now + absl::FromChrono(config_.health_check_interval);
        watch.probing = true;
        ++probes_in_flight_;
        to_probe.push_back(w.id);
      }
    }
  }
  for (const WorkerView& w : workers) {
    if (w.state == WorkerState::kReady) CheckLimits(w, now);
  }
  for (const WorkerView& w : to_measure) CheckMemory(w);
  // Outside mu_: a probe of a worker that is already gone answers inline.
  for (int id : to_probe) {
    pool_.ProbeHealth(id, absl::FromChrono(config_.health_check_timeout),
                      [this, id](absl::Status status) { OnProbe(id, status); });
  }
}

bool LifecycleManager::CheckLimits(const WorkerView& worker, absl::Time now) {
  if (worker.recycling) return false;
  if (now >= worker.expires_at) return pool_.Recycle(worker.id, "ttl").ok();
  if (worker.request_limit > 0 && worker.requests >= worker.request_limit) {
    return pool_.Recycle(worker.id, "max_requests").ok();
  }
  return false;
}

void LifecycleManager::CheckMemory(const WorkerView& worker) {
  absl::StatusOr<ProcessMemory> memory = read_memory_(worker.pid);
  if (!memory.ok()) {
    // NOT_FOUND: it exited meanwhile, and its exit is handled elsewhere.
    // Anything else would silently disable the memory limit: say so.
    if (!absl::IsNotFound(memory.status())) {
      logger()->warn("pool '{}': cannot measure worker {}-{} (pid {}): {}", pool_.name(), pool_.name(), worker.id,
                     worker.pid, std::string(memory.status().message()));
    }
    return;
  }
  pool_.RecordMemory(worker.id, memory->rss_bytes, memory->pss_bytes);
  const std::int64_t limit = config_.worker_max_memory_mb << 20;
  if (limit <= 0 || memory->pss_bytes <= limit || worker.recycling) return;
  logger()->info(
      "pool '{}': worker {}-{} (pid {}) uses {} MiB PSS ({} MiB RSS, {} processes), over "
      "worker_max_memory_mb={}; recycling it",
      pool_.name(), pool_.name(), worker.id, worker.pid, memory->pss_bytes >> 20, memory->rss_bytes >> 20,
      memory->processes, config_.worker_max_memory_mb);
  (void)pool_.Recycle(worker.id, "memory", memory->pss_bytes);
}

void LifecycleManager::OnProbe(int id, const absl::Status& status) {
  int failures = 0;
  int pid = 0;
  {
    MutexLock lock(&mu_);
    --probes_in_flight_;
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    it->second.probing = false;
    if (status.ok()) {
      it->second.health_failures = 0;
      return;
    }
    if (absl::IsNotFound(status)) return;  // no longer ready: not a health matter
    failures = ++it->second.health_failures;
    pid = it->second.pid;
  }
  logger()->warn("pool '{}': worker {}-{} failed a health check ({} of {}): {}", pool_.name(), pool_.name(), id,
                 failures, config_.health_check_failures, std::string(status.message()));
  Event event;
  event.type = EventType::kHealthCheckFailed;
  event.pool = pool_.name();
  event.worker_id = id;
  event.pid = pid;
  event.time = std::chrono::system_clock::now();
  event.failures = failures;
  event.message = std::string(status.message());
  pool_.Emit(std::move(event));
  if (failures >= config_.health_check_failures) pool_.Kill(id, "health_check");
}

}  // namespace snakepit::internal
