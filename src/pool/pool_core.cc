#include "pool/pool_core.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"

namespace snakepit::internal {

std::shared_ptr<Slot> PoolCore::Find(int id) const {
  for (const auto& s : slots) {
    if (s->id == id) return s;
  }
  return nullptr;
}

int PoolCore::RoutableWorkers() const {
  return static_cast<int>(std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s->Routable(); }));
}

int PoolCore::ReadyWorkers() const {
  return static_cast<int>(std::count_if(slots.begin(), slots.end(), [](const auto& s) {
    return s->state == WorkerState::kReady && s->fault == Fault::kNone;
  }));
}

int PoolCore::LiveWorkers() const {
  return pending_starts + static_cast<int>(std::count_if(slots.begin(), slots.end(), [](const auto& s) {
           return s->state == WorkerState::kReady || s->state == WorkerState::kStarting ||
                  s->state == WorkerState::kDraining;
         }));
}

int PoolCore::RoutableCapacity() const {
  int capacity = 0;
  for (const auto& s : slots) {
    if (s->state == WorkerState::kReady && s->fault == Fault::kNone) capacity += s->capacity;
  }
  return capacity;
}

absl::Status PoolCore::DegradedError() const {
  return absl::UnavailableError(absl::StrCat("pool '", name(), "' is degraded: its last ", consecutive_start_failures,
                                             " worker starts failed; last error: ", last_start_error));
}

Event PoolCore::MakeEvent(EventType type, const Slot* slot) const {
  Event event;
  event.type = type;
  event.pool = name();
  event.time = std::chrono::system_clock::now();
  if (slot != nullptr) {
    event.worker_id = slot->id;
    event.pid = slot->worker ? slot->worker->metadata().pid : 0;
    event.requests = slot->requests;
    if (slot->state != WorkerState::kStarting) {
      event.uptime = absl::ToChronoMilliseconds(clock.Now() - slot->started_at);
    }
  }
  return event;
}

Event PoolCore::MakeEventUnlocked(EventType type, const Slot* slot) const {
  MutexLock lock(&mu);
  return MakeEvent(type, slot);
}

}  // namespace snakepit::internal
