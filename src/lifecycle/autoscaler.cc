#include "lifecycle/autoscaler.h"

#include <string>
#include <utility>

#include "snakepit/logging.h"

namespace snakepit::internal {

Autoscaler::Autoscaler(ManagedPool& pool, Clock& clock, Mode mode)
    : pool_(pool),
      clock_(clock),
      interval_(absl::FromChrono(pool.config().autoscale->sample_interval)),
      policy_(*pool.config().autoscale) {
  if (mode == Mode::kThread) thread_ = std::thread([this] { Run(); });
}

Autoscaler::~Autoscaler() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Autoscaler::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (clock_.AwaitUntil(&mu_, Condition(&stopping), clock_.Now() + interval_)) return;
    }
    Tick();
  }
}

void Autoscaler::Tick() {
  const LoadSample sample = pool_.Load();
  AutoscaleDecision decision;
  {
    MutexLock lock(&mu_);
    decision = policy_.Observe(sample, clock_.Now());
  }
  pool_.RecordDesiredSize(decision.desired);
  if (!decision.resize_to) return;
  const absl::Status status = pool_.Resize(*decision.resize_to, decision.reason, decision.detail);
  if (!status.ok()) {
    logger()->warn("pool '{}': autoscaler could not resize to {} workers: {}", pool_.name(), *decision.resize_to,
                   std::string(status.message()));
  }
}

}  // namespace snakepit::internal
