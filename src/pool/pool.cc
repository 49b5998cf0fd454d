#include "pool/pool.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "worker/reply_waiter.h"

namespace snakepit::internal {
namespace {

Clock& ClockOr(Clock* given, std::unique_ptr<RealClock>& own) {
  if (given != nullptr) return *given;
  own = std::make_unique<RealClock>();
  return *own;
}

}  // namespace

Pool::Pool(PoolConfig config, WorkerFactory factory, EventSink events, EventsWanted events_wanted, Clock* clock)
    : core_(std::move(config), ClockOr(clock, own_clock_), std::move(events)),
      telemetry_(core_, std::move(events_wanted)),
      router_(core_, telemetry_, supervisor_),
      supervisor_(core_, telemetry_, router_, std::move(factory)) {}

Pool::~Pool() { Shutdown(); }

absl::StatusOr<Reply> Pool::CallAndWait(std::string command, std::string args_json, CallOptions options) {
  ReplyWaiter waiter;
  router_.Submit(std::move(command), std::move(args_json), std::move(options), waiter.Completion(), nullptr, &waiter);
  return waiter.Wait();
}

std::shared_ptr<StreamChannel> Pool::NewStream(const CallOptions& options, StreamChannel::ChunkCallback on_chunk,
                                               StreamChannel::EndCallback on_end) const {
  if (on_chunk) {
    return std::make_shared<StreamChannel>(std::move(on_chunk), std::move(on_end), telemetry_.stream_gauges());
  }
  const int buffer = options.stream_buffer > 0 ? options.stream_buffer : core_.config.stream_buffer;
  return std::make_shared<StreamChannel>(static_cast<std::size_t>(buffer), telemetry_.stream_gauges());
}

PoolStats Pool::Stats() const {
  PoolStats stats;
  stats.name = core_.config.name;
  const absl::Time now = core_.clock.Now();
  telemetry_.Fill(stats, now);
  MutexLock lock(&core_.mu);
  stats.profile = core_.running_profile;
  stats.fallback_reason = core_.fallback_reason;
  stats.transport_fallback = core_.transport_fallback;
  stats.in_flight = core_.in_flight;
  stats.abandoned_in_flight = core_.abandoned;
  stats.queued = static_cast<int>(core_.queue.size());
  stats.max_queue = core_.config.max_queue;
  stats.degraded = core_.degraded;
  stats.last_start_error = core_.last_start_error;
  stats.consecutive_start_failures = core_.consecutive_start_failures;
  stats.threads_per_worker =
      core_.running_profile == Profile::kThread ? core_.config.effective_threads_per_worker() : 1;
  stats.target_workers = core_.target_size;
  stats.desired_workers = core_.config.autoscale ? core_.desired_size : core_.target_size;
  if (core_.config.autoscale) {
    stats.min_workers = core_.config.autoscale->min_workers;
    stats.max_workers = core_.config.autoscale->max_workers;
  }
  stats.scale_ups = core_.scale_ups;
  stats.scale_downs = core_.scale_downs;
  stats.affinity_keys = core_.affinity.size();
  stats.affinity_evictions = core_.affinity.evictions();
  for (const auto& s : core_.slots) {
    WorkerStats w;
    w.id = s->id;
    // A worker whose channel broke is as good as dead (it gets no calls and
    // is killed if its exit is not seen soon): never report it ready.
    w.state = s->fault != Fault::kNone && s->state == WorkerState::kReady ? WorkerState::kDead : s->state;
    w.capacity = s->capacity;
    w.in_flight = s->in_flight;
    w.requests = s->requests;
    w.age = absl::ToChronoMilliseconds(now - s->started_at);
    w.request_limit = s->request_limit;
    w.recycling = s->replacement != Replacement::kNone;
    w.affinity_keys = core_.affinity.KeysOf(s->id);
    // A place in the pool: not on its way out (leaving, or replaced by a
    // committed successor).
    if ((s->state == WorkerState::kStarting || s->state == WorkerState::kReady) && s->fault == Fault::kNone &&
        s->replacement != Replacement::kCommitted) {
      ++stats.current_workers;
    }
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
      w.forked = md.forked;
      w.template_pid = md.template_pid;
      w.transport = md.transport;
      w.transport_note = md.transport_note;
    }
    if (w.state == WorkerState::kReady || w.state == WorkerState::kDraining) {
      ++stats.workers;
      stats.capacity += w.capacity;
      if (!w.transport.empty() &&
          !absl::StrContains(absl::StrCat(",", stats.transport, ","), absl::StrCat(",", w.transport, ","))) {
        absl::StrAppend(&stats.transport, stats.transport.empty() ? "" : ",", w.transport);
      }
    }
    stats.per_worker.push_back(w);
  }
  return stats;
}

void Pool::RecordDesiredSize(int workers) {
  MutexLock lock(&core_.mu);
  core_.desired_size = workers;
}

}  // namespace snakepit::internal
