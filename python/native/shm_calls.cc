#include "native/shm_calls.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "native/call_runner.h"
#include "native/job_steps.h"

namespace snakepit::native {

using internal::FrameKind;

bool ShmOutbox::Send(FrameKind kind, std::uint64_t call_id, google::protobuf::MessageLite& message,
                     google::protobuf::RepeatedPtrField<std::string>* attachments, const HeldAttachments* held) {
  // The sections: the attachments left in the message, then the held ones
  // (a reply has one kind or the other: OutcomeReader).
  std::vector<std::string> owned;
  if (attachments != nullptr) {
    owned.assign(std::make_move_iterator(attachments->begin()), std::make_move_iterator(attachments->end()));
    attachments->Clear();
  }
  std::vector<std::span<const std::byte>> sections;
  for (const std::string& section : owned) sections.push_back(std::as_bytes(std::span(section)));
  if (held != nullptr) sections.insert(sections.end(), held->views().begin(), held->views().end());
  std::size_t content = message.ByteSizeLong();
  for (const auto& section : sections) content += section.size();
  const std::size_t size = internal::ShmChannel::MessageBytes(content, sections.size());
  if (size > channel_.max_payload() || sections.size() > channel_.max_sections()) {
    SendFail(call_id, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   absl::StrCat("the worker's reply of ", size, " bytes in ", sections.size(),
                                                " attachments is over the limit of ", channel_.max_payload(),
                                                " bytes or ", channel_.max_sections(), " attachments")));
    return false;
  }
  const std::string bytes = message.SerializeAsString();
  absl::Status sent =
      channel_.Send(kind, call_id, {std::as_bytes(std::span(bytes))}, sections, absl::Now() + kSendTimeout);
  Sent(sent, call_id);
  return sent.ok();
}

void ShmOutbox::SendFail(std::uint64_t call_id, const grpc::Status& status) {
  const auto code = static_cast<std::uint32_t>(status.error_code());
  std::byte code_bytes[sizeof code];
  std::memcpy(code_bytes, &code, sizeof code);
  const std::string& text = status.error_message();
  Sent(
      channel_.Send(FrameKind::kFail, call_id, {std::span<const std::byte>(code_bytes), std::as_bytes(std::span(text))},
                    absl::Now() + kSendTimeout),
      call_id);
}

void ShmOutbox::Sent(const absl::Status& status, std::uint64_t call_id) {
  // CANCELLED: the channel closed (a stop, or the host is gone): expected.
  if (status.ok() || absl::IsCancelled(status)) return;
  // No Python logger here (no GIL); stderr is the worker's output, which
  // the host logs.
  std::fprintf(stderr, "snakepit worker: shared-memory reply to call %llu not sent: %s\n",
               static_cast<unsigned long long>(call_id), std::string(status.message()).c_str());
}

// ShmExecuteCall ------------------------------------------------------------

bool ShmExecuteCall::Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  read(request_);
  return true;
}

CallRequest::Attachments ShmExecuteCall::TakeAttachments() {
  absl::MutexLock lock(&mu_);
  return std::move(attachments_);
}

bool ShmExecuteCall::MarkFinished(absl::AnyInvocable<void()>* before_reply) {
  absl::MutexLock lock(&mu_);
  if (std::exchange(finished_, true)) return false;
  if (before_reply != nullptr) *before_reply = std::move(before_reply_);
  return true;
}

void ShmExecuteCall::SetBeforeReply(absl::AnyInvocable<void()> hook) {
  absl::MutexLock lock(&mu_);
  before_reply_ = std::move(hook);
}

void ShmExecuteCall::Reply(v1::ExecuteResponse&& reply, const HeldAttachments& held) {
  absl::AnyInvocable<void()> hook;
  if (!MarkFinished(&hook)) return;
  if (hook) hook();
  outbox_.Send(FrameKind::kReply, call_id(), reply,
               reply.has_result() ? reply.mutable_result()->mutable_attachments() : nullptr, &held);
  open_.Remove(this);
}

void ShmExecuteCall::Fail(const grpc::Status& status) {
  if (!MarkFinished()) return;
  outbox_.SendFail(call_id(), status);
  open_.Remove(this);
}

void ShmExecuteCall::CancelRequested(bool deadline_exceeded) {
  absl::MutexLock lock(&mu_);
  if (!cancel_.has_value()) cancel_ = deadline_exceeded;
}

void ShmExecuteCall::Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) {
  std::optional<bool> cancel;
  {
    absl::MutexLock lock(&mu_);
    cancel = cancel_;
  }
  // Large result attachments are sent from Python's own buffers.
  HeldAttachments held;
  RunExecute(runner, counters, idle, call_id(), cancel, *this, &held,
             [&](v1::ExecuteResponse&& reply) { Reply(std::move(reply), held); });
}

// ShmStreamCall -------------------------------------------------------------

bool ShmStreamCall::Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) {
  absl::MutexLock lock(&mu_);
  if (ended_) return false;
  read(request_);
  return true;
}

CallRequest::Attachments ShmStreamCall::TakeAttachments() {
  absl::MutexLock lock(&mu_);
  return std::move(attachments_);
}

void ShmStreamCall::End(const v1::StreamMessage* end, const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (std::exchange(ended_, true)) return;
  }
  if (end != nullptr) {
    v1::StreamMessage message = *end;  // small: a stream's end rarely has attachments
    v1::ExecuteResponse& response = *message.mutable_end();
    outbox_.Send(FrameKind::kEnd, call_id(), message,
                 response.has_result() ? response.mutable_result()->mutable_attachments() : nullptr);
  } else {
    outbox_.SendFail(call_id(), status);
  }
  open_.Remove(this);
}

void ShmStreamCall::Fail(const grpc::Status& status) { End(nullptr, status); }

void ShmStreamCall::CancelRequested(bool deadline_exceeded) {
  absl::MutexLock lock(&mu_);
  if (cancel_.has_value()) return;
  cancel_ = deadline_exceeded;
  cancel_time_ = absl::Now();
}

void ShmStreamCall::AddCredit(std::uint32_t chunks) {
  absl::MutexLock lock(&mu_);
  // The host never has more than kInitialCredit chunks to acknowledge; a
  // larger grant is not trusted.
  credit_ = std::min(kInitialCredit, credit_ + std::min(chunks, kInitialCredit));
}

std::optional<bool> ShmStreamCall::TakeCancel() {
  absl::MutexLock lock(&mu_);
  if (!cancel_.has_value() || cancel_passed_on_) return std::nullopt;
  cancel_passed_on_ = true;
  return cancel_;
}

bool ShmStreamCall::Write(v1::StreamMessage& chunk, const HeldAttachments& held) {
  {
    absl::MutexLock lock(&mu_);
    // A reader may take its time: wake every second (nothing blocks for
    // ever), and after a Cancel give it kCancelGrace more.
    while (!mu_.AwaitWithTimeout(absl::Condition(this, &ShmStreamCall::CanWrite), absl::Seconds(1))) {
    }
    if (credit_ == 0 && !ended_) {
      mu_.AwaitWithDeadline(absl::Condition(this, &ShmStreamCall::HasCredit), cancel_time_ + kCancelGrace);
    }
    if (ended_ || credit_ == 0) return false;
    --credit_;
  }
  if (outbox_.Send(FrameKind::kChunk, call_id(), chunk, chunk.mutable_chunk()->mutable_attachments(), &held)) {
    return true;
  }
  // Not sent (over the limit, and the stream failed with that; or the
  // channel closed): the stream is over.
  {
    absl::MutexLock lock(&mu_);
    ended_ = true;
  }
  open_.Remove(this);
  return false;
}

void ShmStreamCall::Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) {
  // With credit instead of gRPC's flow control (Write).
  RunStream(runner, counters, idle,
            StreamSteps{
                .call_id = call_id(),
                .request = *this,
                .take_cancel = [this] { return TakeCancel(); },
                .write = [this](v1::StreamMessage&& chunk, const HeldAttachments& held) { return Write(chunk, held); },
                .end = [this](const v1::StreamMessage* end, const grpc::Status& status) { End(end, status); },
                .hold_attachments = true});
}

}  // namespace snakepit::native
