#include "support/bare_stub.h"

#include <future>

#include "absl/time/clock.h"

namespace snakepit::bench {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  // Each stub gets a connection of its own, as each library worker does.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

BareStub::BareStub(const std::string& target, int max_message_bytes)
    : channel_(MakeChannel(target, max_message_bytes)), stub_(snakepit::v1::Worker::NewStub(channel_)) {}

bool BareStub::WaitConnected(absl::Duration timeout) {
  return channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

snakepit::v1::ExecuteRequest BareStub::Request(const std::string& command, const std::string& args_json) {
  snakepit::v1::ExecuteRequest request;
  request.set_command(command);
  request.set_args_json(args_json);
  request.set_call_id(next_call_id_.fetch_add(1, std::memory_order_relaxed));
  request.set_deadline_unix_ms(absl::ToUnixMillis(absl::Now() + absl::Seconds(30)));
  return request;
}

grpc::Status BareStub::Execute(const snakepit::v1::ExecuteRequest& request, snakepit::v1::ExecuteResponse* response) {
  grpc::ClientContext context;
  return stub_->Execute(&context, request, response);
}

grpc::Status BareStub::ExecuteCallback(const snakepit::v1::ExecuteRequest& request,
                                       snakepit::v1::ExecuteResponse* response) {
  grpc::ClientContext context;
  // Shared, as the library's call() does: set_value may still be running
  // on the callback thread when get() returns here.
  auto done = std::make_shared<std::promise<grpc::Status>>();
  std::future<grpc::Status> result = done->get_future();
  stub_->async()->Execute(&context, &request, response, [done](grpc::Status status) { done->set_value(status); });
  return result.get();
}

}  // namespace snakepit::bench
