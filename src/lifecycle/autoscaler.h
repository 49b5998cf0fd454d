// Autoscaler: sizes one pool with its load. Every sample_interval it takes
// a LoadSample of the pool (ManagedPool::Load), asks the AutoscalePolicy
// what to do, records the desired size for stats, and carries out a
// decision with ManagedPool::Resize, whose pool_scaling event carries the
// decision's reason and figures.
//
// The decisions are AutoscalePolicy's (a pure function, tested sample by
// sample); this class only ticks. Tests drive it with a fake clock and
// Mode::kManual, calling Tick() themselves.
//
// Threading: in Mode::kThread, construction starts the sampling thread and
// the destructor stops and joins it (a tick never blocks: Resize starts
// its work in the background). `pool` and `clock` must outlive this object.
#ifndef SNAKEPIT_SRC_LIFECYCLE_AUTOSCALER_H_
#define SNAKEPIT_SRC_LIFECYCLE_AUTOSCALER_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "lifecycle/autoscale_policy.h"
#include "lifecycle/managed_pool.h"

namespace snakepit::internal {

class Autoscaler {
 public:
  enum class Mode { kThread, kManual };

  // REQUIRES: pool.config().autoscale is set.
  Autoscaler(ManagedPool& pool, Clock& clock, Mode mode = Mode::kThread);
  ~Autoscaler();
  Autoscaler(const Autoscaler&) = delete;
  Autoscaler& operator=(const Autoscaler&) = delete;

  // One sample and decision at clock.Now(). Thread-safe.
  void Tick();

 private:
  void Run();

  ManagedPool& pool_;
  Clock& clock_;
  const absl::Duration interval_;

  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  AutoscalePolicy policy_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Mode::kThread only
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_AUTOSCALER_H_
