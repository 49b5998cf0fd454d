// ControlCall: one RPC of the native server answered at once (Health,
// Cancel), on the polling thread that received it.
#ifndef SNAKEPIT_PYTHON_NATIVE_CONTROL_CALL_H_
#define SNAKEPIT_PYTHON_NATIVE_CONTROL_CALL_H_

#include <functional>

#include <grpcpp/grpcpp.h>

#include "native/call_queue.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::native {

template <class RequestT, class ResponseT>
class ControlCall final : public Tag {
 public:
  using RequestMethod = void (v1::Worker::AsyncService::*)(grpc::ServerContext*, RequestT*,
                                                           grpc::ServerAsyncResponseWriter<ResponseT>*,
                                                           grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  // Fills the response, or returns the error to end the RPC with.
  using Answer = std::function<grpc::Status(const grpc::ServerContext&, const RequestT&, ResponseT&)>;

  // Asks gRPC for the next RPC of `method`. When it arrives, the call asks
  // for the next one, answers with `answer` and frees itself once the reply
  // is sent. Everything passed in must outlive the queue's polling.
  static void Request(v1::Worker::AsyncService& service, RequestMethod method, CallQueue& queue, const Answer& answer) {
    auto* call = new ControlCall(service, method, queue, answer);
    const bool started = queue.Start([call](grpc::ServerCompletionQueue* cq) {
      (call->service_.*call->method_)(&call->context_, &call->request_, &call->responder_, cq, cq, call);
    });
    if (!started) delete call;
  }

  void Done(bool ok) override {
    if (answered_ || !ok) {  // the reply was sent, or no RPC came (shutdown)
      delete this;
      return;
    }
    Request(service_, method_, queue_, answer_);
    answered_ = true;
    const grpc::Status status = answer_(context_, request_, response_);
    const bool started = queue_.Start([this, &status](grpc::ServerCompletionQueue* /*cq*/) {
      if (status.ok()) {
        responder_.Finish(response_, status, this);
      } else {
        responder_.FinishWithError(status, this);
      }
    });
    if (!started) delete this;
  }

 private:
  ControlCall(v1::Worker::AsyncService& service, RequestMethod method, CallQueue& queue, const Answer& answer)
      : service_(service), method_(method), queue_(queue), answer_(answer) {}

  v1::Worker::AsyncService& service_;
  const RequestMethod method_;
  CallQueue& queue_;
  const Answer& answer_;
  grpc::ServerContext context_;
  RequestT request_;
  ResponseT response_;
  grpc::ServerAsyncResponseWriter<ResponseT> responder_{&context_};
  bool answered_ = false;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CONTROL_CALL_H_
