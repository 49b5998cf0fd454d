#include "pool/pool_telemetry.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "profile/profile_fit.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// pool_saturated and capacity_reached fire at most this often per pool: a
// pool hovering at its limit would otherwise flood the subscribers.
constexpr absl::Duration kLoadEventInterval = absl::Seconds(1);

}  // namespace

PoolTelemetry::PoolTelemetry(const PoolCore& core, EventsWanted events_wanted)
    : core_(core), events_wanted_(std::move(events_wanted)), created_at_(core.clock.Now()) {}

PoolTelemetry::LoadEdges PoolTelemetry::NoteLoad(int queued, int in_flight, int capacity, absl::Time now) {
  LoadEdges edges;
  edges.queued = queued;
  edges.in_flight = in_flight;
  MutexLock lock(&mu_);
  queue_high_water_ = std::max(queue_high_water_, queued);
  if (queue_clock_.Set(queued > 0, now) && now - last_saturated_event_ >= kLoadEventInterval) {
    last_saturated_event_ = now;
    edges.saturated = true;
  }
  if (full_clock_.Set(capacity > 0 && in_flight >= capacity, now) && now - last_full_event_ >= kLoadEventInterval) {
    last_full_event_ = now;
    edges.full = true;
  }
  return edges;
}

void PoolTelemetry::EmitLoadEdges(const LoadEdges& edges) const {
  if (edges.full) {
    Event event = core_.MakeEventUnlocked(EventType::kCapacityReached, nullptr);
    event.in_flight = edges.in_flight;
    event.message = absl::StrCat("all ", edges.in_flight, " slots of pool '", core_.name(), "' are busy");
    core_.Emit(std::move(event));
  }
  if (edges.saturated) {
    Event event = core_.MakeEventUnlocked(EventType::kPoolSaturated, nullptr);
    event.in_flight = edges.in_flight;
    event.queued = edges.queued;
    event.message = absl::StrCat("pool '", core_.name(), "' is saturated: calls are queueing behind ", edges.in_flight,
                                 " busy slots");
    core_.Emit(std::move(event));
  }
}

void PoolTelemetry::CountReply(bool ok, bool retry, bool late, absl::Duration busy, absl::Duration cpu) {
  MutexLock lock(&mu_);
  busy_total_ += busy;
  cpu_total_ += cpu;
  if (retry) return;
  ++requests_;
  if (!ok) ++errors_;
  if (late) ++late_replies_;
}

void PoolTelemetry::CountRejected() {
  MutexLock lock(&mu_);
  ++rejected_;
}

void PoolTelemetry::CountRetry() {
  MutexLock lock(&mu_);
  ++retries_;
}

void PoolTelemetry::CountCancelled() {
  MutexLock lock(&mu_);
  ++cancelled_;
}

void PoolTelemetry::CountCancelSent() {
  MutexLock lock(&mu_);
  ++cancels_sent_;
}

void PoolTelemetry::CountCrash() {
  MutexLock lock(&mu_);
  ++crashes_;
}

void PoolTelemetry::CountRestart() {
  MutexLock lock(&mu_);
  ++restarts_;
}

void PoolTelemetry::CountRecycle(const std::string& reason) {
  MutexLock lock(&mu_);
  ++recycles_[reason];
}

void PoolTelemetry::RecordCompletion(const Call& call, const absl::Status& status, absl::Time now) {
  if (absl::IsDeadlineExceeded(status)) {
    MutexLock lock(&mu_);
    ++timeouts_;
  }
  const absl::Duration took = now - call.submitted;
  // Calls refused at submission never waited for anything: counting their
  // zero durations would hide the latency of the calls that ran.
  if (call.admitted) latency_.Record(took);
  if (!core_.events || (events_wanted_ && !events_wanted_())) return;
  Event event = core_.MakeEventUnlocked(EventType::kRequestExecuted, nullptr);
  event.command = call.command;
  event.trace_id = call.trace_id;
  event.duration = absl::ToChronoNanoseconds(took);
  event.status = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
  if (!status.ok()) event.message = std::string(status.message().substr(0, 200));
  core_.Emit(std::move(event));
}

void PoolTelemetry::CheckProfileFit(const Slot& slot, Profile running) {
  if (running != Profile::kThread || slot.worker == nullptr) return;
  std::vector<FitWarning> warnings = ProfileFitWarnings(core_.config, running, slot.worker->metadata());
  {
    MutexLock lock(&mu_);
    std::erase_if(warnings, [this](const FitWarning& w)
                                ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !warned_.insert(w.key).second; });
  }
  for (FitWarning& w : warnings) {
    logger()->log(w.advice ? spdlog::level::info : spdlog::level::warn, "{}", w.message);
    Event event = core_.MakeEventUnlocked(EventType::kPoolWarning, &slot);
    event.reason = std::move(w.reason);
    event.message = std::move(w.message);
    core_.Emit(std::move(event));
  }
}

void PoolTelemetry::Fill(PoolStats& stats, absl::Time now) const {
  MutexLock lock(&mu_);
  stats.queue_high_water = queue_high_water_;
  stats.requests = requests_;
  stats.errors = errors_;
  stats.timeouts = timeouts_;
  stats.rejected = rejected_;
  stats.late_replies_discarded = late_replies_;
  stats.retries = retries_;
  stats.cancelled = cancelled_;
  stats.cancels_sent = cancels_sent_;
  const StreamGauges& g = *stream_gauges_;
  stats.open_streams = static_cast<int>(g.open.load());
  stats.streams = g.opened.load();
  stats.stream_chunks = g.chunks.load();
  stats.stream_chunks_dropped = g.dropped.load();
  stats.stream_buffered_chunks = g.buffered_chunks.load();
  stats.stream_buffered_bytes = g.buffered_bytes.load();
  stats.crashes = crashes_;
  stats.restarts = restarts_;
  stats.recycles = recycles_;
  stats.uptime = absl::ToChronoMilliseconds(now - created_at_);
  stats.latency = latency_.Snapshot();
  stats.busy_time = absl::ToChronoNanoseconds(busy_total_);
  stats.cpu_time = absl::ToChronoNanoseconds(cpu_total_);
  stats.queue_nonempty_time = absl::ToChronoNanoseconds(queue_clock_.Total(now));
  stats.capacity_full_time = absl::ToChronoNanoseconds(full_clock_.Total(now));
}

}  // namespace snakepit::internal
