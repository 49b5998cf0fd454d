#include "common/deadline_timer.h"

#include "absl/time/clock.h"

namespace snakepit::internal {
namespace {

class RealTime final : public DeadlineTimer::TimeSource {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepUntil(Mutex* mu, CondVar* cv, absl::Time until) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (until == absl::InfiniteFuture()) {
      cv->Wait(mu);
    } else {
      cv->WaitWithDeadline(mu, until);
    }
  }
};

DeadlineTimer::TimeSource* RealTimeSource() {
  static RealTime* const real = new RealTime;  // stateless; never destroyed
  return real;
}

}  // namespace

DeadlineTimer::DeadlineTimer(TimeSource* time)
    : time_(time != nullptr ? time : RealTimeSource()), thread_([this] { Run(); }) {}

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
  entries_.emplace(std::make_pair(when, handle.id), std::move(fn));
  if (when < sleeping_until_) {
    // Once is enough: the thread looks at the earliest entry when it wakes.
    sleeping_until_ = absl::InfinitePast();
    ++counters_.signals;
    changed_.Signal();
  }
  return handle;
}

void DeadlineTimer::Cancel(const Handle& handle) {
  if (handle.id == 0) return;
  MutexLock lock(&mu_);
  // The thread may sleep until this entry's time: it then wakes once,
  // finds nothing due and sleeps until the next entry. Cheaper than waking
  // it now, which would cost every call a wake-up.
  entries_.erase({handle.when, handle.id});
}

DeadlineTimer::Counters DeadlineTimer::counters() const {
  MutexLock lock(&mu_);
  return counters_;
}

void DeadlineTimer::Run() {
  MutexLock lock(&mu_);
  while (!stop_) {
    auto first = entries_.begin();
    if (first != entries_.end() && first->first.first <= time_->Now()) {
      std::function<void()> fn = std::move(first->second);
      entries_.erase(first);
      ++counters_.fired;
      mu_.Unlock();
      fn();
      mu_.Lock();
      continue;
    }
    sleeping_until_ = first != entries_.end() ? first->first.first : absl::InfiniteFuture();
    time_->SleepUntil(&mu_, &changed_, sleeping_until_);
    sleeping_until_ = absl::InfinitePast();
    ++counters_.wakeups;
  }
}

}  // namespace snakepit::internal
