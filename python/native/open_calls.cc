#include "native/open_calls.h"

#include <optional>
#include <utility>
#include <vector>

namespace snakepit::native {

bool OpenCalls::Add(std::shared_ptr<OpenCall> call, std::uint64_t call_id) {
  std::optional<bool> early;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    calls_.emplace(call.get(), Entry{call, call_id});
    for (auto it = early_.begin(); call_id != 0 && it != early_.end(); ++it) {
      if (it->first == call_id) {
        early = it->second;
        early_.erase(it);
        break;
      }
    }
  }
  if (early.has_value()) call->CancelRequested(*early);
  return true;
}

void OpenCalls::Remove(const OpenCall* call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(call);
}

bool OpenCalls::Cancel(std::uint64_t call_id, bool deadline_exceeded) {
  if (call_id == 0) return false;
  // Told outside the lock, as FailAll does.
  std::vector<std::shared_ptr<OpenCall>> matching;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : calls_) {
      if (entry.second.call_id == call_id) matching.push_back(entry.second.call);
    }
    if (matching.empty()) {
      early_.emplace_back(call_id, deadline_exceeded);
      if (early_.size() > kEarlyCancels) early_.pop_front();
    }
  }
  for (const std::shared_ptr<OpenCall>& call : matching) call->CancelRequested(deadline_exceeded);
  return !matching.empty();
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
  std::vector<std::shared_ptr<OpenCall>> open;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& entry : calls_) open.push_back(entry.second.call);
  }
  for (const std::shared_ptr<OpenCall>& call : open) call->Fail(status);
}

}  // namespace snakepit::native
