#include "native/worker_service.h"

#include <unistd.h>

#include <utility>

#include "native/security.h"

namespace snakepit::native {
namespace {

grpc::Status Unauthenticated() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong snakepit-token metadata");
}

}  // namespace

WorkerService::WorkerService(CallRunner& runner, HandlerPool& handlers, OpenCalls& open, std::string token)
    : runner_(runner),
      handlers_(handlers),
      open_(open),
      token_(std::move(token)),
      health_([this](const grpc::ServerContext& context, v1::HealthResponse& response) {
        return Health(context, response);
      }),
      stats_([this](const grpc::ServerContext& context, v1::StatsResponse& response) {
        return Stats(context, response);
      }) {}

void WorkerService::Start(CallQueue& queue) {
  queue_ = &queue;
  ExecuteCall::Request(service_, queue, open_, *this);
  ControlCall<v1::HealthRequest, v1::HealthResponse>::Request(service_, &v1::Worker::AsyncService::RequestHealth, queue,
                                                              health_);
  ControlCall<v1::StatsRequest, v1::StatsResponse>::Request(service_, &v1::Worker::AsyncService::RequestStats, queue,
                                                            stats_);
}

void WorkerService::StopAccepting() {
  stopping_.store(true);
  open_.Close();
}

void WorkerService::Arrived(std::shared_ptr<ExecuteCall> call) {
  ExecuteCall::Request(service_, *queue_, open_, *this);  // the next one
  if (!Authorized(call->context(), token_)) {
    call->Fail(Unauthenticated());
  } else if (!open_.Add(call)) {
    call->Fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the worker is stopping"));
  } else if (!handlers_.TryRun(call)) {
    v1::ExecuteResponse busy;
    runner_.Busy(call->request(), busy);
    call->Reply(std::move(busy));
  }
}

grpc::Status WorkerService::Health(const grpc::ServerContext& context, v1::HealthResponse& response) const {
  if (!Authorized(context, token_)) return Unauthenticated();
  response.set_state(stopping_.load() ? v1::HealthResponse::STOPPING : v1::HealthResponse::SERVING);
  response.set_pid(::getpid());
  return grpc::Status::OK;
}

grpc::Status WorkerService::Stats(const grpc::ServerContext& context, v1::StatsResponse& response) const {
  if (!Authorized(context, token_)) return Unauthenticated();
  return runner_.Stats(response);
}

}  // namespace snakepit::native
