#include "lifecycle/autoscale_policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

std::string Figures(const LoadSample& s, absl::Duration held) {
  return absl::StrCat(s.in_flight, " running + ", s.queued, " queued on ", s.target, " workers of capacity ",
                      s.capacity_per_worker, ", for ", absl::FormatDuration(held));
}

}  // namespace

double AutoscalePolicy::PerWorker(const LoadSample& sample) const {
  const int capacity = std::max(1, sample.capacity_per_worker);
  if (config_.target == AutoscaleTarget::kQueueDepth) return capacity + config_.target_queue_depth;
  return capacity * config_.target_utilization;
}

int AutoscalePolicy::Clamp(double size) const {
  // A hair under the integer above counts as that integer: 0.8 x 5 / 0.8
  // must not become 6 through rounding.
  const double rounded = std::ceil(size - 1e-9);
  return static_cast<int>(
      std::clamp(rounded, static_cast<double>(config_.min_workers), static_cast<double>(config_.max_workers)));
}

int AutoscalePolicy::UpSize(const LoadSample& sample) const {
  return Clamp((sample.in_flight + sample.queued) / PerWorker(sample));
}

int AutoscalePolicy::DownSize(const LoadSample& sample) const {
  return Clamp((sample.in_flight + sample.queued) / (PerWorker(sample) * (1 - config_.hysteresis)));
}

void AutoscalePolicy::Reset() {
  up_ = {};
  down_ = {};
  idle_since_.reset();
}

AutoscaleDecision AutoscalePolicy::Observe(const LoadSample& sample, absl::Time now) {
  AutoscaleDecision decision;
  const int up = UpSize(sample);
  const int down = DownSize(sample);
  decision.desired = up > sample.target ? up : (down < sample.target ? down : sample.target);
  if (sample.ready < sample.target || sample.leaving > 0) {
    // Settling after a change (or a restart): judge the size only once it
    // is there. More ready workers than the target is a recycle's
    // successor starting before its predecessor leaves: settled.
    Reset();
    return decision;
  }
  const bool idle = sample.in_flight + sample.queued == 0;
  if (!idle) idle_since_.reset();
  if (idle && !idle_since_) idle_since_ = now;

  if (up > sample.target) {
    if (!up_.since) up_ = {now, up};
    up_.size = std::max(up_.size, up);
  } else {
    up_ = {};
  }
  if (down < sample.target) {
    if (!down_.since) down_ = {now, down};
    down_.size = std::max(down_.size, down);
  } else {
    down_ = {};
  }

  const absl::Duration up_delay = absl::FromChrono(config_.scale_up_delay);
  const absl::Duration down_delay = absl::FromChrono(config_.scale_down_delay);
  const absl::Duration idle_delay = absl::FromChrono(config_.idle_timeout);
  if (up_.since && now - *up_.since >= up_delay) {
    decision.resize_to = up_.size;
    decision.reason = "load";
    decision.detail = absl::StrCat("load above target: ", Figures(sample, now - *up_.since));
  } else if (idle_since_ && config_.idle_timeout.count() > 0 && now - *idle_since_ >= idle_delay &&
             sample.target > config_.min_workers) {
    decision.resize_to = config_.min_workers;
    decision.reason = "idle";
    decision.detail = absl::StrCat("no calls for ", absl::FormatDuration(now - *idle_since_));
  } else if (down_.since && now - *down_.since >= down_delay) {
    decision.resize_to = down_.size;
    decision.reason = "load";
    decision.detail = absl::StrCat("load below target: ", Figures(sample, now - *down_.since));
  }
  if (decision.resize_to) {
    decision.desired = *decision.resize_to;
    Reset();
  }
  return decision;
}

}  // namespace snakepit::internal
