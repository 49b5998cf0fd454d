#include "native/canceller.h"

#include <pthread.h>

#include <memory>

namespace snakepit::native {

void Canceller::Start() {
  absl::MutexLock lock(&mu_);
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void Canceller::Post(std::uint64_t call_id, bool deadline_exceeded) {
  if (call_id == 0) return;
  absl::MutexLock lock(&mu_);
  if (!stopping_) queue_.push_back(Request{call_id, deadline_exceeded});
}

void Canceller::Loop() {
  pthread_setname_np(pthread_self(), "snakepit-cancel");
  std::unique_ptr<CallRunner::ThreadScope> scope = runner_.AttachThread();
  while (true) {
    Request request{};
    {
      absl::MutexLock lock(&mu_);
      // Wakes up every second even when idle: no wait is unbounded.
      while (!mu_.AwaitWithTimeout(absl::Condition(this, &Canceller::WorkOrStop), absl::Seconds(1))) {
      }
      if (stopping_) break;
      request = queue_.front();
      queue_.pop_front();
    }
    runner_.Cancel(request.call_id, request.deadline_exceeded);
  }
  scope.reset();
  absl::MutexLock lock(&mu_);
  exited_ = true;
}

bool Canceller::Stop(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (joined_ || !started_) return true;
    stopping_ = true;
    queue_.clear();
    if (!mu_.AwaitWithDeadline(absl::Condition(&exited_), deadline)) return false;
  }
  thread_.join();
  absl::MutexLock lock(&mu_);
  joined_ = true;
  return true;
}

bool Canceller::Stopped() {
  absl::MutexLock lock(&mu_);
  return joined_ || !started_;
}

}  // namespace snakepit::native
