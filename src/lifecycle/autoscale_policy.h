// AutoscalePolicy: when an autoscaled pool changes size, and to what. A
// pure decision over load samples and the time they were taken: no
// threads, no pool, no clock of its own, so that its tests drive it sample
// by sample (tests/cpp/autoscale_policy_test.cc). The Autoscaler
// (autoscaler.h) feeds it and carries out its decisions.
//
// The rules (AutoscaleConfig in snakepit/config.h, docs/elastic.md):
//   load      = calls running + calls queued
//   per       = what one worker should carry: capacity x target_utilization
//               (kUtilization) or capacity + target_queue_depth
//               (kQueueDepth)
//   up_size   = ceil(load / per), within [min_workers, max_workers]
//   down_size = ceil(load / (per x (1 - hysteresis))), within the bounds
//   - grow when up_size > target on every sample for scale_up_delay, to
//     the largest up_size of those samples (a step of load is met in one
//     move, even when its callers arrive over the window);
//   - shrink when down_size < target on every sample for scale_down_delay,
//     to the largest down_size of those samples; down_size >= up_size, so
//     a load between the two thresholds moves nothing (no flapping);
//   - with no load at all for idle_timeout (0: never), go to min_workers.
// No decision is taken while the pool has fewer ready workers than its
// target (workers starting or restarting) or workers leaving: the windows
// restart once it is settled, so each decision is measured against the
// size it made. Every decision restarts every
// window: two decisions are at least a delay apart.
//
// Threading: not thread-safe; one owner.
#ifndef SNAKEPIT_SRC_LIFECYCLE_AUTOSCALE_POLICY_H_
#define SNAKEPIT_SRC_LIFECYCLE_AUTOSCALE_POLICY_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "snakepit/config.h"

namespace snakepit::internal {

// One sample of a pool's load and size.
struct LoadSample {
  int target = 0;               // the size the pool keeps (resize, autoscale)
  int ready = 0;                // ready workers that take calls
  int leaving = 0;              // workers draining to shrink the pool
  int in_flight = 0;            // calls running on workers
  int queued = 0;               // calls waiting for a slot
  int capacity_per_worker = 1;  // concurrent calls one worker takes
};

struct AutoscaleDecision {
  // The size the load asks for now, before the delays (stats and metrics
  // show it as the desired size); the target when it asks for no change.
  int desired = 0;
  // Set when the pool is to change size now.
  std::optional<int> resize_to;
  std::string reason;  // with resize_to: "load" or "idle"
  std::string detail;  // with resize_to: the figures behind it
};

class AutoscalePolicy {
 public:
  // REQUIRES: `config` passed ValidateAutoscale.
  explicit AutoscalePolicy(const AutoscaleConfig& config) : config_(config) {}

  // Takes the sample taken at `now` (never earlier than the previous one's).
  AutoscaleDecision Observe(const LoadSample& sample, absl::Time now);

  // The sizes the load asks for (see above), for the tests and the docs.
  int UpSize(const LoadSample& sample) const;
  int DownSize(const LoadSample& sample) const;

 private:
  // A run of samples that all asked for the same direction of change.
  struct Window {
    std::optional<absl::Time> since;
    int size = 0;  // the largest size its samples asked for
  };
  void Reset();
  double PerWorker(const LoadSample& sample) const;
  int Clamp(double size) const;

  const AutoscaleConfig config_;
  Window up_;
  Window down_;
  std::optional<absl::Time> idle_since_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_AUTOSCALE_POLICY_H_
