#include "native/stream_call.h"

#include <utility>

#include "native/call_runner.h"
#include "native/job_steps.h"

namespace snakepit::native {

namespace {

// How long a thread waits for a write that a cancel of the RPC ends. gRPC
// may take seconds to complete it (not OK, or even OK); the stream ends
// without waiting longer (the write's event keeps the call alive).
constexpr absl::Duration kCancelledWriteWait = absl::Milliseconds(20);

}  // namespace

void StreamCall::Op::Done(bool ok) {
  std::shared_ptr<StreamCall> held = std::move(hold);  // the queue lets go of the call
  (call->*done)(ok);
}

StreamCall::StreamCall(CallQueue& queue, OpenCalls& open, StreamArrivals& arrivals, Canceller& canceller)
    : queue_(queue), open_(open), arrivals_(arrivals), canceller_(canceller) {
  arrival_.call = write_.call = end_.call = over_.call = this;
  arrival_.done = &StreamCall::Arrived;
  write_.done = &StreamCall::Written;
  end_.done = &StreamCall::Ended;
  over_.done = &StreamCall::Over;
}

bool StreamCall::Request(v1::Worker::AsyncService& service, CallQueue& queue, OpenCalls& open, StreamArrivals& arrivals,
                         Canceller& canceller) {
  std::shared_ptr<StreamCall> call(new StreamCall(queue, open, arrivals, canceller));
  StreamCall& c = *call;
  c.arrival_.hold = call;
  // Held until the RPC is over. (Should no RPC come - a shutdown - that
  // event may not come either: the call is then leaked, once, at exit.)
  c.over_.hold = call;
  c.context_.AsyncNotifyWhenDone(&c.over_);
  const bool started = queue.Start([&c, &service](grpc::ServerCompletionQueue* cq) {
    service.RequestExecuteStream(&c.context_, &c.request_, &c.writer_, cq, cq, &c.arrival_);
  });
  if (!started) {
    c.arrival_.hold.reset();
    c.over_.hold.reset();
  }
  return started;
}

bool StreamCall::StartOp(Op& op, absl::FunctionRef<void()> start) {
  op.hold = shared_from_this();
  const bool started = queue_.Start([&start](grpc::ServerCompletionQueue* /*cq*/) { start(); });
  if (!started) op.hold.reset();
  return started;
}

bool StreamCall::Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) {
  absl::MutexLock lock(&mu_);
  if (failed_) return false;
  read(request_);
  return true;
}

CallRequest::Attachments StreamCall::TakeAttachments() {
  absl::MutexLock lock(&mu_);
  return std::move(*request_.mutable_attachments());
}

void StreamCall::Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) {
  RunStream(runner, counters, idle,
            StreamSteps{
                .call_id = call_id_,
                .request = *this,
                .take_cancel = [this] { return TakeCancel(); },
                .write =
                    [this](v1::StreamMessage&& chunk, const HeldAttachments& /*held: none, hold_attachments is off*/) {
                      return Write(std::move(chunk));
                    },
                .end = [this](const v1::StreamMessage* end, const grpc::Status& status) { End(end, status); }});
}

bool StreamCall::Write(v1::StreamMessage&& message) {
  {
    absl::MutexLock lock(&mu_);
    if (failed_) return false;
    writing_ = true;
  }
  outgoing_ = std::move(message);
  if (!StartOp(write_, [this] { writer_.Write(outgoing_, &write_); })) {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    return false;
  }
  absl::MutexLock lock(&mu_);
  // A reader may hold a write for ever: the wait wakes every second, and
  // after a Cancel the reader has kCancelGrace left to take the chunk.
  while (!mu_.AwaitWithTimeout(absl::Condition(this, &StreamCall::WriteSettled), absl::Seconds(1))) {
  }
  if (writing_ && !failed_) {
    mu_.AwaitWithDeadline(absl::Condition(this, &StreamCall::NotWriting), cancel_time_ + kCancelGrace);
  }
  if (writing_) {
    // Given up (a Cancel, the client gone, or a stop): cancelling the RPC
    // ends the write at once (not OK), which gRPC does not do by itself
    // as soon as the client has gone.
    failed_ = true;
    context_.TryCancel();
    mu_.AwaitWithTimeout(absl::Condition(this, &StreamCall::NotWriting), kCancelledWriteWait);
  }
  return !failed_ && !writing_ && written_ok_;
}

void StreamCall::End(const v1::StreamMessage* end, const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return;
    ended_ = true;
  }
  if (end != nullptr) outgoing_ = *end;
  const bool started = StartOp(end_, [&] {
    if (end != nullptr) {
      writer_.WriteAndFinish(outgoing_, grpc::WriteOptions(), status, &end_);
    } else {
      writer_.Finish(status, &end_);
    }
  });
  if (!started) open_.Remove(this);
}

void StreamCall::Fail(const grpc::Status& /*status*/) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_ || failed_) return;
    failed_ = true;
  }
  context_.TryCancel();
}

void StreamCall::CancelRequested(bool deadline_exceeded) {
  absl::MutexLock lock(&mu_);
  if (cancel_requested_) return;
  cancel_requested_ = true;
  cancel_deadline_ = deadline_exceeded;
  cancel_time_ = absl::Now();
}

std::optional<bool> StreamCall::TakeCancel() {
  absl::MutexLock lock(&mu_);
  if (!cancel_requested_ || cancel_passed_on_) return std::nullopt;
  cancel_passed_on_ = true;
  return cancel_deadline_;
}

void StreamCall::Arrived(bool ok) {
  if (!ok) return;  // the server is shutting down: no RPC came
  {
    absl::MutexLock lock(&mu_);
    arrived_ = true;
    call_id_ = request_.call_id();
  }
  arrivals_.Arrived(shared_from_this());
}

void StreamCall::Written(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  written_ok_ = ok;
}

void StreamCall::Ended(bool /*ok*/) { open_.Remove(this); }

void StreamCall::Over(bool /*ok*/) {
  std::uint64_t call_id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!arrived_ || ended_ || !context_.IsCancelled()) return;
    failed_ = true;  // every later write would fail
    call_id = call_id_;
  }
  canceller_.Post(call_id, /*deadline_exceeded=*/false);
}

}  // namespace snakepit::native
