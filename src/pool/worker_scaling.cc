// WorkerSupervisor: elastic sizing. Resize() moves the pool's target size;
// growing starts workers through the start path, shrinking drains the
// leavers. See the class comment and docs/elastic.md.
#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "config/config_rules.h"
#include "pool/worker_supervisor.h"
#include "snakepit/logging.h"

namespace snakepit::internal {

absl::Status WorkerSupervisor::Resize(int workers, std::string reason, std::string detail) {
  if (absl::Status range = CheckIntRange("workers", workers, kPoolSizeRange); !range.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool '", core_.name(), "': cannot resize to ", workers, " workers: ", range.message()));
  }
  const std::optional<AutoscaleConfig>& autoscale = core_.config.autoscale;
  if (autoscale && reason == "manual" && (workers < autoscale->min_workers || workers > autoscale->max_workers)) {
    return absl::InvalidArgumentError(absl::StrCat("pool '", core_.name(), "': cannot resize to ", workers,
                                                   " workers: the pool autoscales within [min_workers, max_workers] "
                                                   "= [",
                                                   autoscale->min_workers, ", ", autoscale->max_workers, "]"));
  }
  int previous = 0;
  std::vector<std::shared_ptr<Slot>> leavers;
  {
    MutexLock lock(&core_.mu);
    if (core_.closed) {
      return absl::FailedPreconditionError(absl::StrCat("pool '", core_.name(), "' is shutting down"));
    }
    previous = core_.target_size;
    if (workers == previous) return absl::OkStatus();
    core_.target_size = workers;
    if (workers > previous) {
      ++core_.scale_ups;
      // Places given up but not yet freed are taken back first.
      const int taken_back = std::min(core_.surplus, workers - previous);
      core_.surplus -= taken_back;
      const int starts = workers - previous - taken_back;
      if (starts > 0) {
        core_.pending_starts += starts;  // callers queue for them
        // Under mu, after the closed check, like every task.
        tasks_.Spawn([this, starts] { RunScaleUp(starts); });
      }
    } else {
      ++core_.scale_downs;
      // Places whose worker is not ready yet (starting, restarting) are
      // given up first: no ready worker leaves while a start could.
      const int unfilled = std::max(0, previous - core_.ReadyWorkers());
      const int given_up = std::min(unfilled, previous - workers);
      leavers = ChooseLeavers(previous - workers - given_up);
      core_.surplus += previous - workers - static_cast<int>(leavers.size());
      for (const auto& slot : leavers) {
        MarkLeaving(*slot);
        tasks_.Spawn([this, slot] { Retire(slot, "scale_down", 0); });
      }
    }
  }
  logger()->info("pool '{}': resizing from {} to {} workers ({}{}{})", core_.name(), previous, workers, reason,
                 detail.empty() ? "" : ": ", detail);
  Event event = core_.MakeEventUnlocked(EventType::kPoolScaling, nullptr);
  event.reason = std::move(reason);
  event.message = std::move(detail);
  event.previous_size = previous;
  event.target_size = workers;
  core_.Emit(std::move(event));
  return absl::OkStatus();
}

void WorkerSupervisor::MarkLeaving(Slot& slot) {
  slot.leaving = true;
  slot.state = WorkerState::kDraining;  // no new calls from now on
  // No successor: neither a recycle nor the exit handler replaces it.
  slot.replacement = Replacement::kCommitted;
  ++core_.leaving;
}

std::vector<std::shared_ptr<Slot>> WorkerSupervisor::ChooseLeavers(int count) {
  struct Candidate {
    int in_flight;
    int keys;
    int id;
    std::shared_ptr<Slot> slot;
  };
  std::vector<Candidate> candidates;
  for (const auto& s : core_.slots) {
    // A worker waiting for a recycle may leave instead (the recycle then
    // finds it no longer its own); one whose successor is committed or
    // that is faulty is on its way out already.
    if (s->state == WorkerState::kReady && s->fault == Fault::kNone && s->replacement != Replacement::kCommitted) {
      candidates.push_back({s->in_flight, core_.affinity.KeysOf(s->id), s->id, s});
    }
  }
  // Idle first, so that no call waits on a drain; then the fewest affinity
  // keys (the fewest sessions move); then the newest.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.in_flight != b.in_flight) return a.in_flight < b.in_flight;
    if (a.keys != b.keys) return a.keys < b.keys;
    return a.id > b.id;
  });
  std::vector<std::shared_ptr<Slot>> leavers;
  for (int i = 0; i < count && i < static_cast<int>(candidates.size()); ++i) leavers.push_back(candidates[i].slot);
  return leavers;
}

void WorkerSupervisor::RunScaleUp(int count) {
  const int batch = std::max(1, core_.config.startup_batch_size);
  while (count > 0) {
    int starts = std::min(batch, count);
    {
      MutexLock lock(&core_.mu);
      if (core_.closed) break;
      // The pool shrank meanwhile: places given up are not started.
      const int dropped = std::min(core_.surplus, starts);
      core_.surplus -= dropped;
      core_.pending_starts -= dropped;
      count -= dropped;
      starts -= dropped;
    }
    // The batch at once, as at start-up: import time overlaps.
    std::vector<std::thread> starters;
    for (int i = 0; i < starts; ++i) {
      starters.emplace_back([this] {
        StartReplacementWithBackoff();
        MutexLock lock(&core_.mu);
        --core_.pending_starts;
      });
    }
    for (std::thread& t : starters) t.join();
    count -= starts;
  }
  MutexLock lock(&core_.mu);
  core_.pending_starts -= count;  // not started: the pool closed
}

LoadSample WorkerSupervisor::Load() const {
  LoadSample sample;
  MutexLock lock(&core_.mu);
  sample.target = core_.target_size;
  sample.ready = core_.ReadyWorkers();
  sample.leaving = core_.leaving;
  sample.in_flight = core_.in_flight;
  sample.queued = static_cast<int>(core_.queue.size());
  sample.capacity_per_worker =
      core_.running_profile == Profile::kThread ? core_.config.effective_threads_per_worker() : 1;
  return sample;
}

bool WorkerSupervisor::AwaitTargetSize(absl::Time deadline) const {
  MutexLock lock(&core_.mu);
  auto there = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu) {
    return core_.closed || (core_.ReadyWorkers() >= core_.target_size && core_.leaving == 0);
  };
  return core_.clock.AwaitUntil(&core_.mu, Condition(&there), deadline) && !core_.closed;
}

}  // namespace snakepit::internal
