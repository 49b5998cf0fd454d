#include "native/stats_cache.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace snakepit::native {

void StatsCache::Start() {
  Refresh();
  thread_ = std::thread([this] { Loop(); });
}

bool StatsCache::Await(StatsWaiter& waiter, Arm arm) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (!arm(now + kHandlerWait)) return false;
  waiting_.push_back({&waiter, now, /*covered=*/false});
  return true;
}

bool StatsCache::KeepWaiting(StatsWaiter& waiter, Arm arm) {
  absl::MutexLock lock(&mu_);
  const auto it = Find(waiter);
  if (it == waiting_.end()) return false;  // refreshed meanwhile
  const absl::Time now = absl::Now();
  const absl::Time last = it->arrived + kMaxWait;
  if (now >= last || counters_.Read().in_flight > 0) return false;
  if (arm(std::min(now + kHandlerWait, last))) return true;
  waiting_.erase(it);
  return false;
}

void StatsCache::Forget(StatsWaiter& waiter) {
  absl::MutexLock lock(&mu_);
  const auto it = Find(waiter);
  if (it != waiting_.end()) waiting_.erase(it);
}

grpc::Status StatsCache::Fill(v1::StatsResponse& response) const {
  const CallCounters::Values counts = counters_.Read();
  {
    absl::MutexLock lock(&mu_);
    if (!snapshot_status_.ok()) return snapshot_status_;
    response = snapshot_;
    const std::chrono::duration<double> since = std::chrono::steady_clock::now() - taken_;
    response.set_uptime_s(snapshot_.uptime_s() + since.count());
  }
  response.set_pid(::getpid());
  response.set_in_flight(counts.in_flight);
  response.set_requests_served(counts.served);
  response.set_requests_failed(counts.failed);
  return grpc::Status::OK;
}

bool StatsCache::Stop(absl::Time deadline) {
  absl::MutexLock stop_lock(&stop_mu_);
  if (joined_ || !thread_.joinable()) return true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!mu_.AwaitWithDeadline(absl::Condition(&exited_), deadline)) return false;
  }
  thread_.join();  // it is past its last use of the cache: immediate
  joined_ = true;
  return true;
}

bool StatsCache::Stopped() {
  absl::MutexLock stop_lock(&stop_mu_);
  return joined_ || !thread_.joinable();
}

void StatsCache::Loop() {
  pthread_setname_np(pthread_self(), "snakepit-stats");
  std::unique_ptr<CallRunner::ThreadScope> scope = runner_.AttachThread();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // An idle thread still wakes up every second: no wait is unbounded.
      while (!mu_.AwaitWithTimeout(absl::Condition(this, &StatsCache::WorkOrStop), absl::Seconds(1))) {
      }
      if (stopping_) break;
      for (Waiting& w : waiting_) w.covered = true;
    }
    Refresh();
  }
  scope.reset();
  absl::MutexLock lock(&mu_);
  exited_ = true;
}

void StatsCache::Refresh() {
  v1::StatsResponse fresh;
  grpc::Status status = runner_.Stats(fresh);  // may wait for the GIL
  const auto taken = std::chrono::steady_clock::now();
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(fresh);
  snapshot_status_ = std::move(status);
  taken_ = taken;
  const auto answered =
      std::stable_partition(waiting_.begin(), waiting_.end(), [](const Waiting& w) { return !w.covered; });
  for (auto it = answered; it != waiting_.end(); ++it) it->waiter->Refreshed();
  waiting_.erase(answered, waiting_.end());
}

bool StatsCache::WorkOrStop() const {
  return stopping_ || std::any_of(waiting_.begin(), waiting_.end(), [](const Waiting& w) { return !w.covered; });
}

std::vector<StatsCache::Waiting>::iterator StatsCache::Find(const StatsWaiter& waiter) {
  return std::find_if(waiting_.begin(), waiting_.end(), [&](const Waiting& w) { return w.waiter == &waiter; });
}

}  // namespace snakepit::native
