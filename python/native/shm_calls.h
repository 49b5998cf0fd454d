// The calls that arrive over the shared-memory data plane (shm_server.h),
// as the handler threads run them: ShmExecuteCall (answered by one kReply
// or kFail message) and ShmStreamCall (kChunk messages, then kEnd or
// kFail). They play the part ExecuteCall and StreamCall play for gRPC,
// with the same OpenCalls, HandlerPool, Canceller and CallRunner, so a
// command behaves the same whichever way its call came.
//
// Flow control of a stream is by credit: a stream may have
// kInitialCredit chunks unacknowledged; the host grants one more (kCredit)
// for each chunk its reader took. A reader that stops taking chunks thus
// holds the generator, at most kInitialCredit chunks ahead.
//
// Life: held by the ShmServer's dispatch until a handler thread runs it,
// by that thread, and by its OpenCalls entry until its last message is
// sent. Every method is thread-safe.
#ifndef SNAKEPIT_PYTHON_NATIVE_SHM_CALLS_H_
#define SNAKEPIT_PYTHON_NATIVE_SHM_CALLS_H_

#include <cstdint>
#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_request.h"
#include "native/handler_job.h"
#include "native/held_attachments.h"
#include "native/open_calls.h"
#include "shm/shm_channel.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// The worker's sending end. Thread-safe; never blocks longer than
// kSendTimeout (a host that reads nothing for that long is hung or gone:
// the message is dropped, and the host's own deadlines deal with it).
class ShmOutbox {
 public:
  static constexpr absl::Duration kSendTimeout = absl::Seconds(30);

  explicit ShmOutbox(internal::ShmChannel& channel) : channel_(channel) {}

  // Sends `message`, serialized, as a `kind` message of call `call_id`,
  // with `attachments` (a field of `message`, or null) moved out of it and
  // sent as the message's sections; false if it was not sent. A message
  // over the channel's limit is not sent: the call fails instead with
  // RESOURCE_EXHAUSTED (kFail), as gRPC fails an RPC whose reply is over
  // its limit.
  bool Send(internal::FrameKind kind, std::uint64_t call_id, google::protobuf::MessageLite& message,
            google::protobuf::RepeatedPtrField<std::string>* attachments, const HeldAttachments* held = nullptr);
  // Sends kFail: `status`'s code (4 bytes) and message.
  void SendFail(std::uint64_t call_id, const grpc::Status& status);

 private:
  void Sent(const absl::Status& status, std::uint64_t call_id);
  internal::ShmChannel& channel_;
};

class ShmExecuteCall final : public OpenCall, public HandlerJob, public CallRequest {
 public:
  // Keeps `request`'s attachments apart from it (attachments_), so that
  // the request itself stays const.
  ShmExecuteCall(ShmOutbox& outbox, OpenCalls& open, v1::ExecuteRequest request)
      : outbox_(outbox),
        open_(open),
        attachments_(std::move(*request.mutable_attachments())),
        request_(std::move(request)) {}

  std::uint64_t call_id() const { return request_.call_id(); }

  bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) override;
  Attachments TakeAttachments() override;
  // Sends `reply`, with `held`'s attachments after any it carries, unless
  // the call is finished already.
  void Reply(v1::ExecuteResponse&& reply, const HeldAttachments& held);
  // Runs `hook` on the thread that sends the reply, just before it sends
  // it (not for a Fail): the shm reader thread that runs the call takes
  // the read lead back there (ShmServer::Loop), so that the host's next
  // call, which may follow the reply at once, finds a reader.
  void SetBeforeReply(absl::AnyInvocable<void()> hook);
  void Fail(const grpc::Status& status) override;
  void CancelRequested(bool deadline_exceeded) override;
  void Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) override;

 private:
  // Marks the call finished; false if it was already. `before_reply`, if
  // given, receives the SetBeforeReply hook.
  bool MarkFinished(absl::AnyInvocable<void()>* before_reply = nullptr);

  ShmOutbox& outbox_;
  OpenCalls& open_;
  // The request's attachments, until TakeAttachments moves them out;
  // declared before request_, which the constructor moves from after them.
  Attachments attachments_ ABSL_GUARDED_BY(mu_);
  const v1::ExecuteRequest request_;  // without its attachments
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<bool> cancel_ ABSL_GUARDED_BY(mu_);  // a Cancel came: deadline exceeded?
  absl::AnyInvocable<void()> before_reply_ ABSL_GUARDED_BY(mu_);
};

class ShmStreamCall final : public OpenCall, public HandlerJob, public CallRequest {
 public:
  static constexpr std::uint32_t kInitialCredit = 8;
  // How long a stream whose call was cancelled still waits for credit
  // before it gives up on its reader (as StreamCall::kCancelGrace).
  static constexpr absl::Duration kCancelGrace = absl::Milliseconds(50);

  // Keeps `request`'s attachments apart from it (attachments_), so that
  // the request itself stays const.
  ShmStreamCall(ShmOutbox& outbox, OpenCalls& open, v1::ExecuteRequest request)
      : outbox_(outbox),
        open_(open),
        attachments_(std::move(*request.mutable_attachments())),
        request_(std::move(request)) {}

  std::uint64_t call_id() const { return request_.call_id(); }

  bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) override;
  Attachments TakeAttachments() override;
  // A stop: the stream ends with `status` now (kFail); the handler thread,
  // if one runs the command, closes it.
  void Fail(const grpc::Status& status) override;
  void CancelRequested(bool deadline_exceeded) override;
  // The host took `chunks` more chunks (kCredit).
  void AddCredit(std::uint32_t chunks);
  // Ends the stream with `end` (kEnd) or, if null, `status` (kFail),
  // unless it was ended already.
  void End(const v1::StreamMessage* end, const grpc::Status& status);
  void Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) override;

 private:
  // Waits for credit and sends `chunk`; false when the stream failed or,
  // after a Cancel, no credit came within kCancelGrace.
  bool Write(v1::StreamMessage& chunk, const HeldAttachments& held);
  std::optional<bool> TakeCancel();
  bool CanWrite() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return credit_ > 0 || ended_ || cancel_.has_value(); }
  bool HasCredit() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return credit_ > 0; }

  ShmOutbox& outbox_;
  OpenCalls& open_;
  // The request's attachments, until TakeAttachments moves them out;
  // declared before request_, which the constructor moves from after them.
  Attachments attachments_ ABSL_GUARDED_BY(mu_);
  const v1::ExecuteRequest request_;  // without its attachments
  absl::Mutex mu_;
  std::uint32_t credit_ ABSL_GUARDED_BY(mu_) = kInitialCredit;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;          // End or Fail ran
  std::optional<bool> cancel_ ABSL_GUARDED_BY(mu_);  // a Cancel came: deadline exceeded?
  bool cancel_passed_on_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time cancel_time_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SHM_CALLS_H_
