#include "native/shm_server.h"

#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "native/busy_reply.h"

namespace snakepit::native {

using internal::Frame;
using internal::FrameKind;

namespace {

// Streams tracked before expired entries are pruned.
constexpr std::size_t kPruneAt = 256;

// How long a stand-in sleeps on the doorbell before it looks again. Only a
// bound on the wait: the doorbell and a Close wake it at once.
constexpr absl::Duration kStandInTick = absl::Seconds(10);

const grpc::Status kStopping(grpc::StatusCode::UNAVAILABLE, "the worker is stopping");

}  // namespace

ShmServer::ShmServer(std::unique_ptr<internal::ShmChannel> channel, HandlerPool& handlers, OpenCalls& open,
                     CallCounters& counters, Canceller& canceller)
    : channel_(std::move(channel)),
      outbox_(*channel_),
      handlers_(handlers),
      open_(open),
      counters_(counters),
      canceller_(canceller) {}

void ShmServer::Start() {
  // One more than the pool's slots: while every slot runs a command, one
  // thread still reads (a Cancel, or an Execute to answer BUSY).
  const int threads = handlers_.size() + 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      ::pthread_setname_np(::pthread_self(), "snakepit-shm");
      Loop();
      absl::MutexLock lock(&exit_mu_);
      ++exited_;
    });
  }
}

bool ShmServer::Close(absl::Time deadline) {
  absl::MutexLock lock(&close_mu_);
  if (joined_ || threads_.empty()) return true;
  channel_->Close();
  {
    // As HandlerPool::Stop: a thread still running a command (past the
    // grace period of a stop) is not waited for; it exits once the
    // command returns, and a later Close joins it.
    absl::MutexLock exit_lock(&exit_mu_);
    const auto only_running_left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(exit_mu_) {
      return exited_ + running_ == static_cast<int>(threads_.size());
    };
    if (!exit_mu_.AwaitWithDeadline(absl::Condition(&only_running_left), deadline)) return false;
    if (exited_ < static_cast<int>(threads_.size())) return false;
  }
  for (std::thread& thread : threads_) thread.join();
  joined_ = true;
  return true;
}

void ShmServer::Loop() {
  // The thread may run commands: it needs its Python thread state.
  std::unique_ptr<CallRunner::ThreadScope> scope = handlers_.AttachThread();
  bool leading = false;  // took the lead back before its last reply
  while (!ended_.load()) {
    // Read before looking for the lead: a ring after this ends the wait.
    const std::uint32_t bell = channel_->doorbell();
    if (!std::exchange(leading, false) && !TakeLead()) {
      if (channel_->closed()) return;  // the leader sees the end
      channel_->AwaitDoorbell(bell, absl::Now() + kStandInTick);
      continue;
    }
    std::shared_ptr<ShmExecuteCall> call;
    {
      absl::MutexLock lock(&reader_mu_);  // never contended: see the header
      call = Lead();
    }
    LeaveLead(/*to_run=*/call != nullptr);
    if (call == nullptr) return;
    {
      absl::MutexLock lock(&exit_mu_);
      ++running_;
    }
    // Leads again from before the reply is sent, if no other thread took
    // over: the host's next call, which may follow the reply at once, then
    // finds a reader and rings for no stand-in.
    call->SetBeforeReply([this, &leading] { leading = TakeLead(); });
    handlers_.RunClaimed(*call);
    absl::MutexLock lock(&exit_mu_);
    --running_;
  }
}

bool ShmServer::TakeLead() {
  absl::MutexLock lock(&lead_mu_);
  if (led_) return false;
  led_ = true;
  channel_->StepBack();
  return true;
}

void ShmServer::LeaveLead(bool to_run) {
  absl::MutexLock lock(&lead_mu_);
  led_ = false;
  // After led_ is cleared: the stand-in this may ring finds the lead free.
  if (to_run) channel_->StepAway();
}

std::shared_ptr<ShmExecuteCall> ShmServer::Lead() {
  while (!ended_.load()) {
    // Wakes every second only to look again; a Close wakes it at once.
    absl::StatusOr<Frame> frame = channel_->Receive(absl::Now() + absl::Seconds(1));
    if (absl::IsDeadlineExceeded(frame.status())) continue;
    if (!frame.ok()) {
      if (!absl::IsCancelled(frame.status())) {
        std::fprintf(stderr, "snakepit worker: shared-memory data plane stopped: %s\n",
                     std::string(frame.status().message()).c_str());
      }
      ended_.store(true);
      break;
    }
    if (std::shared_ptr<ShmExecuteCall> mine = Dispatch(*std::move(frame))) return mine;
  }
  return nullptr;
}

std::shared_ptr<ShmExecuteCall> ShmServer::Dispatch(Frame frame) {
  const std::uint64_t call_id = frame.call_id;
  switch (frame.kind) {
    case FrameKind::kExecute:
    case FrameKind::kExecuteStream: {
      v1::ExecuteRequest request;
      if (!request.ParseFromArray(frame.data.get(), static_cast<int>(frame.size)) || request.call_id() != call_id) {
        outbox_.SendFail(call_id, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                               "the worker could not parse the request (shared-memory data plane)"));
        return nullptr;
      }
      // The attachments came as the message's sections (shm_channel.h).
      for (std::string& section : frame.sections) request.add_attachments(std::move(section));
      if (frame.kind == FrameKind::kExecute) return StartExecute(call_id, std::move(request));
      StartStream(call_id, std::move(request));
      return nullptr;
    }
    case FrameKind::kCancel: {
      v1::CancelRequest request;
      if (!request.ParseFromArray(frame.data.get(), static_cast<int>(frame.size))) return nullptr;
      const bool deadline_exceeded = request.reason() == v1::CancelRequest::DEADLINE_EXCEEDED;
      open_.Cancel(request.call_id(), deadline_exceeded);
      // As the Cancel RPC: Python is told whether or not the call is open
      // yet, so that a Cancel that overtook its call keeps it from running.
      canceller_.Post(request.call_id(), deadline_exceeded);
      return nullptr;
    }
    case FrameKind::kCredit:
      Credit(call_id, frame.payload());
      return nullptr;
    default:  // a worker-to-host kind: the host broke the protocol
      std::fprintf(stderr, "snakepit worker: ignored a shared-memory message of kind %u from the host\n",
                   static_cast<unsigned>(frame.kind));
      return nullptr;
  }
}

std::shared_ptr<ShmExecuteCall> ShmServer::StartExecute(std::uint64_t call_id, v1::ExecuteRequest request) {
  auto call = std::make_shared<ShmExecuteCall>(outbox_, open_, std::move(request));
  // Opened before the lead passes on, so that a Cancel the next leader
  // reads finds it.
  if (stopping_.load() || !open_.Add(call, call_id)) {
    outbox_.SendFail(call_id, kStopping);
  } else if (handlers_.TryClaim()) {
    return call;
  } else {
    counters_.Rejected();
    call->Reply(BusyReply(call_id, handlers_.size()), HeldAttachments());
  }
  return nullptr;
}

void ShmServer::StartStream(std::uint64_t call_id, v1::ExecuteRequest request) {
  auto call = std::make_shared<ShmStreamCall>(outbox_, open_, std::move(request));
  if (stopping_.load() || !open_.Add(call, call_id)) {
    outbox_.SendFail(call_id, kStopping);
    return;
  }
  if (!handlers_.TryRun(call)) {
    counters_.Rejected();
    v1::StreamMessage end;
    *end.mutable_end() = BusyReply(call_id, handlers_.size());
    call->End(&end, grpc::Status::OK);
    return;
  }
  if (streams_.size() >= kPruneAt) std::erase_if(streams_, [](const auto& entry) { return entry.second.expired(); });
  streams_[call_id] = call;
}

void ShmServer::Credit(std::uint64_t call_id, std::span<const std::byte> payload) {
  std::uint32_t chunks = 0;
  if (payload.size() != sizeof chunks) return;
  std::memcpy(&chunks, payload.data(), sizeof chunks);
  auto found = streams_.find(call_id);
  if (found == streams_.end()) return;
  if (std::shared_ptr<ShmStreamCall> stream = found->second.lock()) {
    stream->AddCredit(chunks);
  } else {
    streams_.erase(found);
  }
}

}  // namespace snakepit::native
