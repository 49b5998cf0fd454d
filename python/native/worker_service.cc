#include "native/worker_service.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "native/busy_reply.h"
#include "native/security.h"
#include "native/stats_call.h"

namespace snakepit::native {

WorkerService::WorkerService(HandlerPool& handlers, OpenCalls& open, CallCounters& counters, StatsCache& stats,
                             Canceller& canceller, std::string token)
    : handlers_(handlers),
      open_(open),
      counters_(counters),
      stats_(stats),
      canceller_(canceller),
      token_(std::move(token)),
      health_([this](const grpc::ServerContext& context, const v1::HealthRequest& /*request*/,
                     v1::HealthResponse& response) { return Health(context, response); }),
      cancel_([this](const grpc::ServerContext& context, const v1::CancelRequest& request,
                     v1::CancelResponse& response) { return Cancel(context, request, response); }) {}

void WorkerService::Start(CallQueue& queue) {
  queue_ = &queue;
  ExecuteCall::Request(service_, queue, open_, *this);
  StreamCall::Request(service_, queue, open_, *this, canceller_);
  ControlCall<v1::HealthRequest, v1::HealthResponse>::Request(service_, &v1::Worker::AsyncService::RequestHealth, queue,
                                                              health_);
  ControlCall<v1::CancelRequest, v1::CancelResponse>::Request(service_, &v1::Worker::AsyncService::RequestCancel, queue,
                                                              cancel_);
  StatsCall::Request(service_, queue, stats_, token_);
}

void WorkerService::StopAccepting() {
  stopping_.store(true);
  open_.Close();
}

void WorkerService::Arrived(std::shared_ptr<ExecuteCall> call) {
  ExecuteCall::Request(service_, *queue_, open_, *this);  // the next one
  if (!Authorized(call->context(), token_)) {
    call->Fail(Unauthenticated());
  } else if (!open_.Add(call, call->request().call_id())) {
    call->Fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the worker is stopping"));
  } else if (!handlers_.TryRun(call)) {
    std::uint64_t call_id = 0;
    if (!call->Read([&](const v1::ExecuteRequest& request) { call_id = request.call_id(); })) return;  // cancelled
    counters_.Rejected();
    call->Reply(BusyReply(call_id, handlers_.size()));
  }
}

void WorkerService::Arrived(std::shared_ptr<StreamCall> call) {
  StreamCall::Request(service_, *queue_, open_, *this, canceller_);  // the next one
  std::uint64_t call_id = 0;
  if (!Authorized(call->context(), token_)) {
    call->End(nullptr, Unauthenticated());
  } else if (!call->Read([&](const v1::ExecuteRequest& request) { call_id = request.call_id(); }) ||
             !open_.Add(call, call_id)) {
    call->End(nullptr, grpc::Status(grpc::StatusCode::UNAVAILABLE, "the worker is stopping"));
  } else if (!handlers_.TryRun(call)) {
    counters_.Rejected();
    v1::StreamMessage end;
    *end.mutable_end() = BusyReply(call_id, handlers_.size());
    call->End(&end, grpc::Status::OK);
  }
}

grpc::Status WorkerService::Cancel(const grpc::ServerContext& context, const v1::CancelRequest& request,
                                   v1::CancelResponse& response) {
  if (!Authorized(context, token_)) return Unauthenticated();
  const bool deadline_exceeded = request.reason() == v1::CancelRequest::DEADLINE_EXCEEDED;
  response.set_found(open_.Cancel(request.call_id(), deadline_exceeded));
  // Python is told whether or not the call is open yet: a Cancel that
  // overtakes its call keeps it from running (running.py).
  canceller_.Post(request.call_id(), deadline_exceeded);
  return grpc::Status::OK;
}

grpc::Status WorkerService::Health(const grpc::ServerContext& context, v1::HealthResponse& response) const {
  if (!Authorized(context, token_)) return Unauthenticated();
  response.set_state(stopping_.load() ? v1::HealthResponse::STOPPING : v1::HealthResponse::SERVING);
  response.set_pid(::getpid());
  return grpc::Status::OK;
}

}  // namespace snakepit::native
