#include "native/open_calls.h"

#include <utility>
#include <vector>

namespace snakepit::native {

bool OpenCalls::Add(std::shared_ptr<ExecuteCall> call) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  const ExecuteCall* key = call.get();
  calls_.emplace(key, std::move(call));
  return true;
}

void OpenCalls::Remove(const ExecuteCall* call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(call);
}

void OpenCalls::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool OpenCalls::WaitEmpty(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(this, &OpenCalls::Empty), deadline);
}

void OpenCalls::FailAll(const grpc::Status& status) {
  // Failed outside the lock: finishing a call may run its OnDone, which
  // removes it from here, inline.
  std::vector<std::shared_ptr<ExecuteCall>> open;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : calls_) open.push_back(entry.second);
  }
  for (const std::shared_ptr<ExecuteCall>& call : open) call->Fail(status);
}

}  // namespace snakepit::native
