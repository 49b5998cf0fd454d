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
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "snakepit-shm");
    Loop();
    exited_.Notify();
  });
}

bool ShmServer::Close(absl::Time deadline) {
  absl::MutexLock lock(&close_mu_);
  if (joined_ || !thread_.joinable()) return true;
  channel_->Close();
  if (!exited_.WaitForNotificationWithDeadline(deadline)) return false;
  thread_.join();
  joined_ = true;
  return true;
}

void ShmServer::Loop() {
  while (true) {
    // Wakes every second only to look again; a Close wakes it at once.
    absl::StatusOr<Frame> frame = channel_->Receive(absl::Now() + absl::Seconds(1));
    if (absl::IsDeadlineExceeded(frame.status())) continue;
    if (!frame.ok()) {
      if (!absl::IsCancelled(frame.status())) {
        std::fprintf(stderr, "snakepit worker: shared-memory data plane stopped: %s\n",
                     std::string(frame.status().message()).c_str());
      }
      return;
    }
    Dispatch(*std::move(frame));
  }
}

void ShmServer::Dispatch(Frame frame) {
  const std::uint64_t call_id = frame.call_id;
  switch (frame.kind) {
    case FrameKind::kExecute:
    case FrameKind::kExecuteStream: {
      v1::ExecuteRequest request;
      if (!request.ParseFromArray(frame.data.get(), static_cast<int>(frame.size)) || request.call_id() != call_id) {
        outbox_.SendFail(call_id, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                               "the worker could not parse the request (shared-memory data plane)"));
        return;
      }
      // The attachments came as the message's sections (shm_channel.h).
      for (std::string& section : frame.sections) request.add_attachments(std::move(section));
      if (frame.kind == FrameKind::kExecute) {
        StartExecute(call_id, std::move(request));
      } else {
        StartStream(call_id, std::move(request));
      }
      return;
    }
    case FrameKind::kCancel: {
      v1::CancelRequest request;
      if (!request.ParseFromArray(frame.data.get(), static_cast<int>(frame.size))) return;
      const bool deadline_exceeded = request.reason() == v1::CancelRequest::DEADLINE_EXCEEDED;
      open_.Cancel(request.call_id(), deadline_exceeded);
      // As the Cancel RPC: Python is told whether or not the call is open
      // yet, so that a Cancel that overtook its call keeps it from running.
      canceller_.Post(request.call_id(), deadline_exceeded);
      return;
    }
    case FrameKind::kCredit:
      Credit(call_id, frame.payload());
      return;
    default:  // a worker-to-host kind: the host broke the protocol
      std::fprintf(stderr, "snakepit worker: ignored a shared-memory message of kind %u from the host\n",
                   static_cast<unsigned>(frame.kind));
      return;
  }
}

void ShmServer::StartExecute(std::uint64_t call_id, v1::ExecuteRequest request) {
  auto call = std::make_shared<ShmExecuteCall>(outbox_, open_, std::move(request));
  if (stopping_.load() || !open_.Add(call, call_id)) {
    outbox_.SendFail(call_id, kStopping);
  } else if (!handlers_.TryRun(call)) {
    counters_.Rejected();
    call->Reply(BusyReply(call_id, handlers_.size()), HeldAttachments());
  }
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
