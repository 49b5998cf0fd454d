// Telemetry: saturation clocks and events, per-call latency and events,
// profile-fit warnings, and the workers' own diagnostics reports.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/notification.h"
#include "router/pool_internal.h"
#include "snakepit/compatibility.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// pool_saturated and capacity_reached fire at most this often per pool: a
// pool hovering at its limit would otherwise flood the subscribers.
constexpr absl::Duration kLoadEventInterval = absl::Seconds(1);

}  // namespace

Pool::LoadEdges Pool::NoteLoad(absl::Time now) {
  int capacity = 0;
  for (const auto& s : slots_) {
    if (s->state == WorkerState::kReady && !s->suspect) capacity += s->worker->capacity();
  }
  LoadEdges edges;
  edges.queued = static_cast<int>(queue_.size());
  edges.in_flight = in_flight_;
  if (queue_clock_.Set(!queue_.empty(), now) && now - last_saturated_event_ >= kLoadEventInterval) {
    last_saturated_event_ = now;
    edges.saturated = true;
  }
  if (full_clock_.Set(capacity > 0 && in_flight_ >= capacity, now) && now - last_full_event_ >= kLoadEventInterval) {
    last_full_event_ = now;
    edges.full = true;
  }
  return edges;
}

void Pool::EmitLoadEdges(const LoadEdges& edges) const {
  if (edges.full) {
    Event event = MakeEvent(EventType::kCapacityReached, nullptr);
    event.in_flight = edges.in_flight;
    event.message = absl::StrCat("all ", edges.in_flight, " slots of pool '", name(), "' are busy");
    Emit(std::move(event));
  }
  if (edges.saturated) {
    Event event = MakeEvent(EventType::kPoolSaturated, nullptr);
    event.in_flight = edges.in_flight;
    event.queued = edges.queued;
    event.message =
        absl::StrCat("pool '", name(), "' is saturated: calls are queueing behind ", edges.in_flight, " busy slots");
    Emit(std::move(event));
  }
}

void Pool::RecordCompletion(const Call& call, const absl::Status& status) {
  const absl::Duration took = absl::Now() - call.submitted;
  // Calls refused at submission never waited for anything: counting their
  // zero durations would hide the latency of the calls that ran.
  if (call.admitted) latency_.Record(took);
  if (!events_ || (events_wanted_ && !events_wanted_())) return;
  Event event = MakeEvent(EventType::kRequestExecuted, nullptr);
  event.command = call.command;
  event.duration = absl::ToChronoNanoseconds(took);
  event.status = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
  if (!status.ok()) event.message = std::string(status.message().substr(0, 200));
  Emit(std::move(event));
}

void Pool::CheckProfileFit(const Slot& slot) {
  std::vector<std::pair<std::string, std::string>> warnings;  // key, message
  {
    MutexLock lock(&mu_);
    if (running_profile_ != Profile::kThread || slot.worker == nullptr) return;
    const WorkerMetadata md = slot.worker->metadata();
    if (md.gil_enabled) {
      warnings.emplace_back(
          "gil_enabled",
          absl::StrCat("thread pool '", name(), "' runs on Python ", md.python_version, " with the GIL enabled: the ",
                       config_.effective_threads_per_worker(),
                       " threads of a worker run Python code one at a time (I/O and native code that releases the "
                       "GIL still overlap). For pure-Python CPU work use the process profile or a free-threaded "
                       "interpreter."));
    }
    for (const auto& [lib, version] : CompatibilityMatrix::Builtin().UnsafeAmong(md.loaded_libraries)) {
      warnings.emplace_back(absl::StrCat("unsafe_library:", lib->name),
                            absl::StrCat("thread pool '", name(), "': worker ", md.label, " loaded ", lib->name, " ",
                                         version, ", which the thread-safety matrix marks unsafe: ", lib->notes));
    }
    std::erase_if(warnings,
                  [this](const auto& w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !warned_.insert(w.first).second; });
  }
  for (auto& [key, message] : warnings) {
    logger()->warn("{}", message);
    Event event = MakeEvent(EventType::kPoolWarning, &slot);
    event.reason = key.substr(0, key.find(':'));
    event.message = std::move(message);
    Emit(std::move(event));
  }
}

std::map<int, absl::StatusOr<nlohmann::json>> Pool::WorkerDiagnostics(absl::Time deadline) const {
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
    MutexLock lock(&mu_);
    for (const auto& s : slots_) {
      if (s->state != WorkerState::kReady && s->state != WorkerState::kDraining) continue;
      asked.push_back(s->id);
      {
        MutexLock g(&gathering->mu);
        ++gathering->pending;
      }
      // Under mu_, so the worker cannot be destroyed meanwhile (RemoveSlot
      // takes it under mu_); Diagnostics() never blocks.
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
      answers.emplace(id, absl::DeadlineExceededError(absl::StrCat("worker ", name(), "-", id, " did not answer")));
    }
  }
  return answers;
}

}  // namespace snakepit::internal
