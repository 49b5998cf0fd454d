// Profile fit: whether what a worker runs suits the profile its pool runs.
// A pure function of the worker's metadata; the pool turns its answers
// into a pool_warning event and a log line, once per pool and reason.
#ifndef SNAKEPIT_SRC_PROFILE_PROFILE_FIT_H_
#define SNAKEPIT_SRC_PROFILE_PROFILE_FIT_H_

#include <string>
#include <vector>

#include "snakepit/config.h"
#include "worker/worker.h"

namespace snakepit::internal {

struct FitWarning {
  std::string key;     // unique per pool: "gil_enabled", "unsafe_library:<name>"
  std::string reason;  // the event's reason: "gil_enabled", "unsafe_library"
  std::string message;
  // Logged at info rather than warn: advice about a choice that is often
  // right. A thread pool on an interpreter with the GIL is the documented
  // profile for GIL-releasing native code (numpy, BLAS, I/O), which the
  // worker's metadata cannot tell from pure-Python work; whether the pool
  // really is GIL-bound is measured by the Inspector's
  // gil_bound_thread_pool recommendation. The pool_warning event is sent
  // either way.
  bool advice = false;
};

// Warnings for a worker of `pool`, running `profile`, described by `md`.
// Only the thread profile has anything to warn about.
std::vector<FitWarning> ProfileFitWarnings(const PoolConfig& pool, Profile profile, const WorkerMetadata& md);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROFILE_PROFILE_FIT_H_
