#include "echo/grpc_echo.h"

#include <unistd.h>

#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::bench {
namespace {

class EchoService final : public snakepit::v1::Worker::Service {
 public:
  grpc::Status Execute(grpc::ServerContext*, const snakepit::v1::ExecuteRequest* request,
                       snakepit::v1::ExecuteResponse* response) override {
    snakepit::v1::Result* result = response->mutable_result();
    result->set_json(request->args_json());
    *result->mutable_attachments() = request->attachments();
    response->set_call_id(request->call_id());
    return grpc::Status::OK;
  }

  grpc::Status Health(grpc::ServerContext*, const snakepit::v1::HealthRequest*,
                      snakepit::v1::HealthResponse* response) override {
    response->set_state(snakepit::v1::HealthResponse::SERVING);
    response->set_pid(::getpid());
    return grpc::Status::OK;
  }
};

}  // namespace

std::unique_ptr<grpc::Server> StartGrpcEcho(const std::string& target, int max_message_bytes) {
  static EchoService service;  // outlives every server started here
  grpc::ServerBuilder builder;
  builder.AddListeningPort(target, grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(max_message_bytes);
  builder.RegisterService(&service);
  return builder.BuildAndStart();
}

}  // namespace snakepit::bench
