#include "support/bare_stub.h"

#include <future>

#include "absl/strings/str_cat.h"
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

absl::Status BareStub::Call(const std::string& command, const std::string& attachment) {
  snakepit::v1::ExecuteRequest request = Request(command, "{}");
  if (!attachment.empty()) request.add_attachments(attachment);
  snakepit::v1::ExecuteResponse response;
  const grpc::Status status = Execute(request, &response);
  return CheckReply(status, response, attachment.empty() ? -1 : static_cast<std::int64_t>(attachment.size()));
}

absl::Status CheckReply(const grpc::Status& status, const snakepit::v1::ExecuteResponse& response,
                        std::int64_t echoed_bytes) {
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  if (response.has_error()) return absl::InternalError(response.error().message());
  if (echoed_bytes < 0) return absl::OkStatus();
  if (response.result().attachments_size() != 1) return absl::DataLossError("no attachment echoed");
  const auto got = static_cast<std::int64_t>(response.result().attachments(0).size());
  if (got == echoed_bytes) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("echoed ", got, " bytes, sent ", echoed_bytes));
}

}  // namespace snakepit::bench
