// PoolTelemetry: a pool's figures and the events that report on its load:
// counters, the latency histogram, busy and saturation clocks, per-call
// request_executed events, rate-limited saturation events and profile-fit
// warnings.
//
// Threading: thread-safe, with a lock of its own (taken after
// PoolCore::mu when both are held). Methods that emit events take
// PoolCore::mu to describe the pool: call them without it.
#ifndef SNAKEPIT_SRC_POOL_POOL_TELEMETRY_H_
#define SNAKEPIT_SRC_POOL_POOL_TELEMETRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/busy_clock.h"
#include "common/latency_histogram.h"
#include "common/mutex.h"
#include "pool/call.h"
#include "pool/pool_core.h"
#include "pool/stream_channel.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

class PoolTelemetry {
 public:
  // Whether anyone listens now: per-call request_executed events are only
  // made when it says so, so an unobserved pool pays nothing for them.
  using EventsWanted = std::function<bool()>;

  // Which load conditions began with the last change, and the figures.
  struct LoadEdges {
    bool saturated = false;
    bool full = false;
    int queued = 0;
    int in_flight = 0;
  };

  PoolTelemetry(const PoolCore& core, EventsWanted events_wanted);
  PoolTelemetry(const PoolTelemetry&) = delete;
  PoolTelemetry& operator=(const PoolTelemetry&) = delete;

  // After the queue or the in-flight count changed: advances the
  // saturation clocks and says which events to emit (rate-limited) by
  // EmitLoadEdges once PoolCore::mu is released.
  LoadEdges NoteLoad(int queued, int in_flight, int capacity, absl::Time now);
  void EmitLoadEdges(const LoadEdges& edges) const;

  // A worker's reply (or failure) came back after `busy` on it; a retry is
  // not a finished request, and a late reply had no caller left.
  void CountReply(bool ok, bool retry, bool late, absl::Duration busy, absl::Duration cpu);
  void CountRejected();
  void CountRetry();
  // A caller cancelled its call; the router asked a worker to stop a call.
  void CountCancelled();
  void CountCancelSent();
  // The figures every stream of this pool keeps up to date.
  const std::shared_ptr<StreamGauges>& stream_gauges() const { return stream_gauges_; }
  void CountCrash();
  void CountRestart();
  void CountRecycle(const std::string& reason);
  // A call is about to be delivered to its caller: latency, timeouts and
  // the request_executed event.
  void RecordCompletion(const Call& call, const absl::Status& status, absl::Time now);

  // A worker became ready: warns (event + log, once per pool and reason)
  // when what it runs does not fit the profile.
  void CheckProfileFit(const Slot& slot, Profile running);

  // Fills the pool-level figures of `stats` (counters, clocks, latency).
  void Fill(PoolStats& stats, absl::Time now) const;

 private:
  const PoolCore& core_;
  const EventsWanted events_wanted_;
  const absl::Time created_at_;
  const std::shared_ptr<StreamGauges> stream_gauges_ = std::make_shared<StreamGauges>();
  LatencyHistogram latency_;  // lock-free

  mutable Mutex mu_;
  int queue_high_water_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t rejected_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t late_replies_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t retries_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t cancelled_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t cancels_sent_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t timeouts_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t crashes_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t restarts_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::uint64_t> recycles_ ABSL_GUARDED_BY(mu_);  // by reason
  absl::Duration busy_total_ ABSL_GUARDED_BY(mu_);                      // removed workers included
  absl::Duration cpu_total_ ABSL_GUARDED_BY(mu_);
  BusyClock queue_clock_ ABSL_GUARDED_BY(mu_);
  BusyClock full_clock_ ABSL_GUARDED_BY(mu_);
  absl::Time last_saturated_event_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_full_event_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::set<std::string> warned_ ABSL_GUARDED_BY(mu_);  // pool_warning keys given
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_POOL_TELEMETRY_H_
