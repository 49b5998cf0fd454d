// ExecuteCall: one Execute RPC of the native server, from the request for
// it until its reply is sent. It owns the request and the response.
//
// Life: Request() asks gRPC for the next Execute RPC. When it arrives, the
// ExecuteArrivals sees it on a polling thread and hands it on (to a handler
// thread, or answers it at once). Exactly one Reply or Fail finishes it -
// whoever comes first: a stop cancels calls still running after the grace
// period, and the handler thread's later Reply is then ignored. The thread
// that finishes the call waits until gRPC has sent the reply: the call has
// a completion queue of its own for that (as gRPC's synchronous server
// does), so that sending a reply costs no wake-up of the polling thread.
// Then the call leaves its OpenCalls, and it is freed when the last holder
// lets go (a handler thread may hold it longer).
#ifndef SNAKEPIT_PYTHON_NATIVE_EXECUTE_CALL_H_
#define SNAKEPIT_PYTHON_NATIVE_EXECUTE_CALL_H_

#include <chrono>
#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "native/call_queue.h"
#include "native/call_request.h"
#include "native/handler_job.h"
#include "native/open_calls.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::native {

class ExecuteCall;

// Gets the Execute RPCs as they arrive, on a polling thread.
class ExecuteArrivals {
 public:
  virtual void Arrived(std::shared_ptr<ExecuteCall> call) = 0;

 protected:
  ~ExecuteArrivals() = default;
};

// Thread-safe.
class ExecuteCall final : public std::enable_shared_from_this<ExecuteCall>,
                          public OpenCall,
                          public HandlerJob,
                          public CallRequest {
 public:
  // Asks gRPC for the next Execute RPC. Everything passed in must outlive
  // the queue's polling. False when the queue is shut down.
  static bool Request(v1::Worker::AsyncService& service, CallQueue& queue, OpenCalls& open, ExecuteArrivals& arrivals);

  // Waits for gRPC to be done with the reply queue (see ~ExecuteCall).
  ~ExecuteCall();
  ExecuteCall(const ExecuteCall&) = delete;
  ExecuteCall& operator=(const ExecuteCall&) = delete;

  // The RPC's context (metadata) and request; valid, and unchanging, once
  // it arrived, but for the request's attachments, which TakeAttachments
  // moves out (read them no other way).
  const grpc::ServerContext& context() const { return context_; }
  const v1::ExecuteRequest& request() const { return request_; }

  // Runs `read` on the request unless the call is finished (cancelled);
  // returns whether it ran. The call stays unfinished while `read` runs.
  bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) override;
  // Moves the attachments out of the request (CallRequest).
  Attachments TakeAttachments() override;

  // Sends `reply` (status OK) unless the call is finished already.
  void Reply(v1::ExecuteResponse&& reply);

  // Ends the call with `status` and no reply unless it is finished already.
  void Fail(const grpc::Status& status) override;

  // Python marks the call cancelled (Canceller); a call that has not
  // started yet tells Python itself first (Run), so that it does not run.
  void CancelRequested(bool deadline_exceeded) override;

  // Runs the command (CallRunner::Execute) and sends its reply.
  void Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) override;

 private:
  // The arrival: holds the call until it runs.
  struct Arrival final : Tag {
    std::shared_ptr<ExecuteCall> call;
    void Done(bool ok) override;
  };

  ExecuteCall(OpenCalls& open, ExecuteArrivals& arrivals) : open_(open), arrivals_(arrivals) {}

  // Marks the call finished, moving `reply` (if any) into the response;
  // false if it was finished already.
  bool MarkFinished(v1::ExecuteResponse* reply);
  // Sends the reply (`status` OK) or the error, waits (a while) until it is
  // sent, and leaves the OpenCalls.
  void Send(const grpc::Status& status);
  // Waits for the one event of reply_queue_ up to `deadline`; true if it came.
  bool AwaitSent(std::chrono::system_clock::time_point deadline);

  OpenCalls& open_;
  ExecuteArrivals& arrivals_;
  grpc::CompletionQueue reply_queue_;  // the RPC's operations but its arrival
  grpc::ServerContext context_;
  grpc::ServerAsyncResponseWriter<v1::ExecuteResponse> responder_{&context_};
  Arrival arrival_;
  // Written by gRPC before the arrival; after it, only its attachments
  // change (TakeAttachments, under mu_).
  v1::ExecuteRequest request_;
  v1::ExecuteResponse response_;  // written once, by MarkFinished
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<bool> cancel_ ABSL_GUARDED_BY(mu_);  // a Cancel came: deadline exceeded?
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_EXECUTE_CALL_H_
