#include "native/call_queue.h"

#include <chrono>

namespace snakepit::native {

bool CallQueue::Start(absl::FunctionRef<void(grpc::ServerCompletionQueue*)> start) {
  absl::ReaderMutexLock lock(&mu_);
  if (shut_down_) return false;
  start(queue_.get());
  return true;
}

void CallQueue::Poll() {
  void* tag = nullptr;
  bool ok = false;
  while (true) {
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(1);
    switch (queue_->AsyncNext(&tag, &ok, deadline)) {
      case grpc::CompletionQueue::SHUTDOWN:
        return;
      case grpc::CompletionQueue::TIMEOUT:
        break;
      case grpc::CompletionQueue::GOT_EVENT:
        static_cast<Tag*>(tag)->Done(ok);
        break;
    }
  }
}

void CallQueue::Shutdown() {
  absl::WriterMutexLock lock(&mu_);
  if (shut_down_) return;
  shut_down_ = true;
  queue_->Shutdown();
}

}  // namespace snakepit::native
