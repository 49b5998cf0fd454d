#include "common/deadline_timer.h"

#include "absl/time/clock.h"

namespace snakepit::internal {

DeadlineTimer::DeadlineTimer() : thread_([this] { Run(); }) {}

DeadlineTimer::~DeadlineTimer() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    changed_.Signal();
  }
  thread_.join();
}

DeadlineTimer::Handle DeadlineTimer::Schedule(absl::Time when, std::function<void()> fn) {
  if (when == absl::InfiniteFuture()) return Handle{};
  MutexLock lock(&mu_);
  const Handle handle{when, next_id_++};
  const bool earliest = entries_.empty() || when < entries_.begin()->first.first;
  entries_.emplace(std::make_pair(when, handle.id), std::move(fn));
  if (earliest) changed_.Signal();
  return handle;
}

void DeadlineTimer::Cancel(const Handle& handle) {
  if (handle.id == 0) return;
  MutexLock lock(&mu_);
  entries_.erase({handle.when, handle.id});
}

void DeadlineTimer::Run() {
  MutexLock lock(&mu_);
  while (!stop_) {
    if (entries_.empty()) {
      changed_.Wait(&mu_);
      continue;
    }
    auto first = entries_.begin();
    if (first->first.first > absl::Now()) {
      changed_.WaitWithDeadline(&mu_, first->first.first);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    entries_.erase(first);
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
}

}  // namespace snakepit::internal
