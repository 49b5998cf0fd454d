#include "worker/rpc_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "worker/reply_codec.h"
#include "worker/worker_token.h"

namespace snakepit::internal {

struct RpcClient::PendingCall {
  grpc::ClientContext context;
  snakepit::v1::ExecuteRequest request;
  snakepit::v1::ExecuteResponse response;
  std::string command;
  Worker::Done done;
};

struct RpcClient::PendingHealth {
  grpc::ClientContext context;
  snakepit::v1::HealthRequest request;
  snakepit::v1::HealthResponse response;
  std::function<void(absl::Status)> done;
};

namespace {

std::shared_ptr<grpc::ChannelCredentials> Credentials(const RpcEndpoint& endpoint) {
  if (endpoint.tls_roots_pem.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = endpoint.tls_roots_pem;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> MakeChannel(const RpcEndpoint& endpoint, std::int64_t max_message_bytes) {
  grpc::ChannelArguments args;
  if (!endpoint.tls_roots_pem.empty() && !endpoint.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(endpoint.tls_server_name);
  }
  const int limit = static_cast<int>(std::min<std::int64_t>(max_message_bytes, INT32_MAX));
  args.SetMaxReceiveMessageSize(limit);
  args.SetMaxSendMessageSize(limit);
  // One channel per worker: never share a subchannel between workers, so a
  // dead worker's connection cannot affect another's.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // The worker is known to listen before we connect; a reconnect after a
  // blip should not wait gRPC's default 1 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(endpoint.target, Credentials(endpoint), args);
}

}  // namespace

RpcClient::RpcClient(const RpcEndpoint& endpoint, std::string label, std::int64_t max_message_bytes)
    : label_(std::move(label)),
      target_(endpoint.target),
      token_(endpoint.token),
      tls_(!endpoint.tls_roots_pem.empty()),
      max_message_bytes_(max_message_bytes),
      channel_(MakeChannel(endpoint, max_message_bytes)),
      stub_(snakepit::v1::Worker::NewStub(channel_)) {}

RpcClient::~RpcClient() {
  // Calls still pending hold raw pointers into this object: fail them and
  // wait until gRPC has run every callback and each call's ClientContext
  // is deleted. A context holds a reference to the channel, so deleting the
  // last one after the channel_ member would run ~Channel on a gRPC
  // callback thread, which gRPC does not support (grpc/grpc#37858); with
  // this wait the channel always dies here, on the owner's thread.
  Abort("worker client destroyed");
  MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_.empty() && finishing_ == 0; };
  mu_.Await(Condition(&idle));
}

absl::Status RpcClient::WaitConnected(absl::Time deadline) {
  if (channel_->WaitForConnected(absl::ToChronoTime(deadline))) return absl::OkStatus();
  return absl::DeadlineExceededError(
      absl::StrCat(label_, ": could not connect to the worker at ", target_,
                   tls_ ? " over TLS (does tcp.tls_ca hold the CA that signed the worker's certificate, and does "
                          "the certificate name tcp.tls_server_name, or tcp.host when that is unset?)"
                        : ""));
}

void RpcClient::Execute(WorkerCall call, Worker::Done done) {
  auto* pending = new PendingCall;
  pending->command = std::move(call.command);
  pending->done = std::move(done);
  pending->request.set_command(pending->command);
  pending->request.set_args_json(std::move(call.args_json));
  for (std::string& a : call.attachments) pending->request.add_attachments(std::move(a));
  pending->request.set_call_id(call.call_id);
  pending->request.mutable_metadata()->insert(call.metadata.begin(), call.metadata.end());
  if (call.deadline != absl::InfiniteFuture()) {
    pending->request.set_deadline_unix_ms(absl::ToUnixMillis(call.deadline));
  }
  if (call.rpc_deadline != absl::InfiniteFuture()) {
    pending->context.set_deadline(absl::ToChronoTime(call.rpc_deadline));
  }
  std::string refused;  // the abort reason, if the worker is known dead
  if (!Track(pending, &pending->context, &refused)) {
    std::unique_ptr<PendingCall> owned(pending);
    owned->done(FromRpcStatus(grpc::Status::CANCELLED, label_, owned->command, refused, max_message_bytes_));
    return;
  }
  // Started outside the lock: gRPC may run the callback inline. An Abort()
  // in between cancels the context before the call starts, which gRPC
  // honours when it does start.
  stub_->async()->Execute(&pending->context, &pending->request, &pending->response,
                          [this, pending](grpc::Status status) { Finish(pending, status); });
}

void RpcClient::Finish(PendingCall* pending, const grpc::Status& rpc_status) {
  const std::string abort_reason = Untrack(pending);
  absl::StatusOr<Reply> result = rpc_status.ok()
                                     ? DecodeResponse(pending->response, label_, pending->command)
                                     : absl::StatusOr<Reply>(FromRpcStatus(rpc_status, label_, pending->command,
                                                                           abort_reason, max_message_bytes_));
  {
    Worker::Done done = std::move(pending->done);
    done(std::move(result));
  }  // `done` and what it captured are gone before the record is deleted
  delete pending;
  Finished();
}

bool RpcClient::Track(void* rpc, grpc::ClientContext* context, std::string* abort_reason) {
  if (!token_.empty()) context->AddMetadata(kWorkerTokenMetadataKey, token_);
  MutexLock lock(&mu_);
  if (!abort_reason_.empty()) {
    *abort_reason = abort_reason_;
    return false;
  }
  pending_.emplace(rpc, context);
  return true;
}

std::string RpcClient::Untrack(void* rpc) {
  MutexLock lock(&mu_);
  pending_.erase(rpc);  // its RPC is over: Abort() no longer touches its context
  ++finishing_;
  return abort_reason_;
}

void RpcClient::Finished() {
  MutexLock lock(&mu_);
  --finishing_;
}

void RpcClient::HealthAsync(absl::Time deadline, std::function<void(absl::Status)> done) {
  auto* probe = new PendingHealth;
  probe->done = std::move(done);
  probe->context.set_deadline(absl::ToChronoTime(deadline));
  std::string refused;
  if (!Track(probe, &probe->context, &refused)) {
    std::unique_ptr<PendingHealth> owned(probe);
    owned->done(absl::UnavailableError(absl::StrCat(label_, ": ", refused)));
    return;
  }
  stub_->async()->Health(&probe->context, &probe->request, &probe->response,
                         [this, probe](grpc::Status status) { FinishHealth(probe, status); });
}

void RpcClient::FinishHealth(PendingHealth* probe, const grpc::Status& rpc_status) {
  Untrack(probe);
  absl::Status result;
  if (!rpc_status.ok()) {
    result = absl::UnavailableError(absl::StrCat(label_, ": health check failed: ", rpc_status.error_message()));
  } else if (probe->response.state() != snakepit::v1::HealthResponse::SERVING) {
    result = absl::UnavailableError(absl::StrCat(
        label_, ": worker is not serving (", snakepit::v1::HealthResponse::State_Name(probe->response.state()), ")"));
  }
  {
    std::function<void(absl::Status)> done = std::move(probe->done);
    done(std::move(result));
  }
  delete probe;
  Finished();
}

void RpcClient::Abort(const std::string& reason) {
  MutexLock lock(&mu_);
  if (abort_reason_.empty()) abort_reason_ = reason.empty() ? "aborted" : reason;
  // TryCancel is thread-safe and never runs the callback inline.
  for (auto& [pending, context] : pending_) context->TryCancel();
}

}  // namespace snakepit::internal
