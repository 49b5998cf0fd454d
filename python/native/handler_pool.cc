#include "native/handler_pool.h"

#include <pthread.h>

#include <utility>

namespace snakepit::native {

HandlerPool::HandlerPool(int threads, CallRunner& runner, CallCounters& counters)
    : size_(threads), runner_(runner), counters_(counters), idle_(threads) {}

HandlerPool::~HandlerPool() = default;

void HandlerPool::Start() {
  threads_.reserve(size_);
  for (int i = 0; i < size_; ++i) threads_.emplace_back([this] { Loop(); });
}

bool HandlerPool::TryRun(std::shared_ptr<HandlerJob> job) {
  absl::MutexLock lock(&mu_);
  if (!ClaimLocked()) return false;
  queue_.push_back(std::move(job));
  return true;
}

bool HandlerPool::TryClaim() {
  absl::MutexLock lock(&mu_);
  return ClaimLocked();
}

bool HandlerPool::ClaimLocked() {
  if (stopping_ || idle_ == 0) return false;
  --idle_;
  return true;
}

void HandlerPool::RunClaimed(HandlerJob& job) {
  job.Run(runner_, counters_, [this] {
    absl::MutexLock lock(&mu_);
    ++idle_;
  });
}

void HandlerPool::Loop() {
  pthread_setname_np(pthread_self(), "snakepit-handle");
  std::unique_ptr<CallRunner::ThreadScope> scope = runner_.AttachThread();
  while (true) {
    std::shared_ptr<HandlerJob> job;
    {
      absl::MutexLock lock(&mu_);
      // An idle thread still wakes up every second: no wait is unbounded.
      while (!mu_.AwaitWithTimeout(absl::Condition(this, &HandlerPool::WorkOrStop), absl::Seconds(1))) {
      }
      if (queue_.empty()) {  // stopping, and no call was handed over
        --idle_;
        break;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    job->Run(runner_, counters_, [this] {
      absl::MutexLock lock(&mu_);
      --busy_;
      ++idle_;
    });
  }
  scope.reset();
  absl::MutexLock lock(&mu_);
  ++exited_;
}

bool HandlerPool::Stop(absl::Time deadline) {
  if (threads_.empty()) return true;  // never started
  {
    absl::MutexLock lock(&mu_);
    if (joined_) return true;
    stopping_ = true;
    if (!mu_.AwaitWithDeadline(absl::Condition(this, &HandlerPool::OnlyBusyLeft), deadline)) return false;
    if (exited_ < static_cast<int>(threads_.size())) return false;
  }
  // Every thread is past its last use of the pool; joining is immediate.
  for (std::thread& thread : threads_) thread.join();
  absl::MutexLock lock(&mu_);
  joined_ = true;
  return true;
}

bool HandlerPool::Stopped() {
  absl::MutexLock lock(&mu_);
  return joined_ || threads_.empty();
}

}  // namespace snakepit::native
