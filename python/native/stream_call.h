// StreamCall: one ExecuteStream RPC of the native server, from the request
// for it until its end is sent.
//
// Unlike ExecuteCall's reply, every operation of a stream runs on the
// server's completion queue (the polling thread): the polling thread must
// hear of the client ending the RPC (AsyncNotifyWhenDone) while a handler
// thread is inside the command, to tell Python (Canceller).
//
// A handler thread runs the stream (Run): it makes a chunk (ChunkSource),
// writes it and waits until gRPC has taken it before it makes the next. A
// write completes only when flow control lets the message go, so a reader
// that does not read holds the write, and with it the generator: the
// worker holds at most one chunk of a stream. After the last chunk it
// sends the end with the status, without waiting; the call leaves its
// OpenCalls once that is sent.
//
// Life: held by the handler thread that runs it, by its OpenCalls entry,
// and by each operation pending on the queue (Op::hold), so that it
// outlives every event of its own.
#ifndef SNAKEPIT_PYTHON_NATIVE_STREAM_CALL_H_
#define SNAKEPIT_PYTHON_NATIVE_STREAM_CALL_H_

#include <cstdint>
#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_queue.h"
#include "native/call_request.h"
#include "native/canceller.h"
#include "native/handler_job.h"
#include "native/open_calls.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::native {

class StreamCall;

// Gets the ExecuteStream RPCs as they arrive, on the polling thread.
class StreamArrivals {
 public:
  virtual void Arrived(std::shared_ptr<StreamCall> call) = 0;

 protected:
  ~StreamArrivals() = default;
};

// Thread-safe.
class StreamCall final : public std::enable_shared_from_this<StreamCall>,
                         public OpenCall,
                         public HandlerJob,
                         public CallRequest {
 public:
  // How long a stream whose call was cancelled still waits for its reader
  // to take a chunk, before it gives up and ends the RPC with CANCELLED.
  static constexpr absl::Duration kCancelGrace = absl::Milliseconds(50);

  // Asks gRPC for the next ExecuteStream RPC. Everything passed in must
  // outlive the queue's polling. False when the queue is shut down.
  static bool Request(v1::Worker::AsyncService& service, CallQueue& queue, OpenCalls& open, StreamArrivals& arrivals,
                      Canceller& canceller);

  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

  // The RPC's context (metadata) and request; valid, and unchanging, once
  // it arrived.
  const grpc::ServerContext& context() const { return context_; }

  // Runs `read` on the request unless the call failed (a stop); returns
  // whether it ran.
  bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) override;
  // Moves the attachments out of the request (CallRequest).
  Attachments TakeAttachments() override;

  // Ends the RPC with `status` and, if given, `end` as its only message,
  // unless it was ended already. Never waits (the polling thread calls it).
  void End(const v1::StreamMessage* end, const grpc::Status& status);

  // A stop: cancels the RPC (its writes fail; the handler thread, if one
  // runs the command, closes it and ends the call).
  void Fail(const grpc::Status& status) override;

  // A Cancel came: the chunk being made is not sent (the handler thread
  // tells Python at once, rather than after the Canceller), and a write
  // waiting for the reader gives up after kCancelGrace.
  void CancelRequested(bool deadline_exceeded) override;

  // Runs the command's stream (see above) to its end.
  void Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) override;

 private:
  // One operation on the queue: its event runs `done` on the call.
  struct Op final : Tag {
    StreamCall* call = nullptr;
    void (StreamCall::*done)(bool ok) = nullptr;
    std::shared_ptr<StreamCall> hold;  // the call, while the operation is pending
    void Done(bool ok) override;
  };

  StreamCall(CallQueue& queue, OpenCalls& open, StreamArrivals& arrivals, Canceller& canceller);

  // Starts an operation (`start` runs on the queue's behalf) with `op` as
  // its tag; false, and nothing pending, when the queue is shut down.
  bool StartOp(Op& op, absl::FunctionRef<void()> start);
  // Writes `message` and waits until gRPC took it: true; false when the RPC
  // failed, or after a Cancel its reader did not take it within kCancelGrace.
  bool Write(v1::StreamMessage&& message);
  // The reason of a Cancel that the handler thread has not passed on to
  // Python yet (true: its deadline passed), once.
  std::optional<bool> TakeCancel();
  bool WriteSettled() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !writing_ || cancel_requested_ || failed_; }
  bool NotWriting() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !writing_; }

  // Events, on the polling thread.
  void Arrived(bool ok);
  void Written(bool ok);
  void Ended(bool ok);
  void Over(bool ok);  // the RPC is over (AsyncNotifyWhenDone)

  CallQueue& queue_;
  OpenCalls& open_;
  StreamArrivals& arrivals_;
  Canceller& canceller_;
  grpc::ServerContext context_;
  grpc::ServerAsyncWriter<v1::StreamMessage> writer_{&context_};
  // Written by gRPC before the arrival; after it, only its attachments
  // change (TakeAttachments, under mu_).
  v1::ExecuteRequest request_;
  std::uint64_t call_id_ = 0;  // request_.call_id(), set on arrival
  Op arrival_, write_, end_, over_;
  // The message being sent: set by the thread that starts a write or the
  // end, only while no operation that reads it is pending.
  v1::StreamMessage outgoing_;
  absl::Mutex mu_;
  bool arrived_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool written_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_deadline_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_passed_on_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time cancel_time_ ABSL_GUARDED_BY(mu_);
  bool failed_ ABSL_GUARDED_BY(mu_) = false;  // Fail (a stop), or the RPC is over
  bool ended_ ABSL_GUARDED_BY(mu_) = false;   // End was called
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_STREAM_CALL_H_
