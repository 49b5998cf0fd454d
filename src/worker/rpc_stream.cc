// RpcClient::ExecuteStream and RpcClient::Cancel: a streaming call read one
// message at a time with pauses, and the fire-and-forget Cancel RPC.
//
// A stream is a gRPC client read reactor holding one read outstanding at
// most. After each chunk the handlers say whether to read on; if not, the
// reactor parks (no read outstanding, so gRPC stops granting the worker
// flow-control credit and its generator blocks at the next yield) until
// its Gate's Resume(). A hold keeps OnDone from running while parked; it is
// removed once the stream's last read fails (end of stream, cancel, death).
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "snakepit/logging.h"
#include "worker/reply_codec.h"
#include "worker/rpc_client.h"

namespace snakepit::internal {
namespace {

// The Cancel RPC is answered at once by a live worker; a worker that does
// not answer in this long is hung, and call_kill_timeout deals with it.
constexpr absl::Duration kCancelRpcTimeout = absl::Seconds(5);

}  // namespace

class RpcClient::PendingStream final : public grpc::ClientReadReactor<snakepit::v1::StreamMessage> {
 public:
  // Who restarts a parked stream. Outlives the stream (the consumer may
  // call Resume after the end: a no-op then).
  class Gate final : public StreamControl {
   public:
    explicit Gate(PendingStream* stream) : stream_(stream) {}
    void Resume() override {
      PendingStream* start = nullptr;
      {
        MutexLock lock(&mu_);
        if (stream_ == nullptr) return;
        if (paused_) {
          paused_ = false;
          start = stream_;
        } else {
          resume_pending_ = true;
        }
      }
      // Outside the lock: gRPC may complete the read on this thread. While
      // parked the stream holds its hold, so it cannot end under us.
      if (start != nullptr) start->ReadNext();
    }
    // The consumer could take no more: parks the stream, unless a Resume
    // came in between (then false: read on).
    bool Park() {
      MutexLock lock(&mu_);
      if (std::exchange(resume_pending_, false)) return false;
      paused_ = true;
      return true;
    }
    void Detach() {
      MutexLock lock(&mu_);
      stream_ = nullptr;
    }

   private:
    Mutex mu_;
    PendingStream* stream_ ABSL_GUARDED_BY(mu_);
    bool paused_ ABSL_GUARDED_BY(mu_) = false;
    bool resume_pending_ ABSL_GUARDED_BY(mu_) = false;
  };

  PendingStream(RpcClient* client, WorkerCall& call, StreamHandlers handlers)
      : gate(std::make_shared<Gate>(this)), client_(client), command_(call.command), handlers_(std::move(handlers)) {
    EncodeRequest(call, request);
  }

  void Begin() {
    client_->stub_->async()->ExecuteStream(&context, &request, this);
    AddHold();
    ReadNext();
    StartCall();
  }
  void ReadNext() { StartRead(&message_); }
  // Never started (the worker is known dead): ends it with `why`.
  void Refuse(absl::Status why) {
    gate->Detach();
    auto on_end = std::move(handlers_.on_end);
    handlers_ = {};
    on_end(std::move(why));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the stream is over (or broken): OnDone follows
      RemoveHold();
      return;
    }
    if (message_.has_end()) {
      end_ = message_.end();
      ReadNext();  // to the end of the stream
      return;
    }
    if (!bad_.ok() || end_) {  // after a bad chunk, or a chunk after the end: read to the end
      ReadNext();
      return;
    }
    absl::StatusOr<Chunk> chunk = DecodeChunk(*message_.mutable_chunk(), client_->label_, command_);
    if (!chunk.ok()) {
      bad_ = chunk.status();
      context.TryCancel();
      ReadNext();
      return;
    }
    if (handlers_.on_chunk(*std::move(chunk)) || !gate->Park()) ReadNext();
  }

  void OnDone(const grpc::Status& status) override {
    const std::string abort_reason = client_->Untrack(this);
    absl::StatusOr<Reply> result;
    if (!bad_.ok()) {
      result = bad_;
    } else if (!status.ok()) {
      result = FromRpcStatus(status, client_->label_, command_, abort_reason, client_->max_message_bytes_);
    } else if (!end_) {
      result = absl::InternalError(
          absl::StrCat(client_->label_, ": command '", command_, "': the stream ended without its final message"));
    } else {
      // A generator that finished sends an end with no result: the stream's
      // outcome is OK, carrying the run's timing.
      if (!end_->has_error() && end_->result().json().empty()) end_->mutable_result()->set_json("null");
      result = DecodeResponse(*end_, client_->label_, command_);
    }
    gate->Detach();
    RpcClient* client = client_;
    {
      auto on_end = std::move(handlers_.on_end);
      handlers_ = {};
      on_end(std::move(result));
    }
    delete this;
    client->Finished();
  }

  grpc::ClientContext context;
  snakepit::v1::ExecuteRequest request;
  const std::shared_ptr<Gate> gate;

 private:
  RpcClient* const client_;
  const std::string command_;
  StreamHandlers handlers_;
  snakepit::v1::StreamMessage message_;
  std::optional<snakepit::v1::ExecuteResponse> end_;
  absl::Status bad_;
};

std::shared_ptr<StreamControl> RpcClient::ExecuteStream(WorkerCall call, StreamHandlers handlers) {
  auto* stream = new PendingStream(this, call, std::move(handlers));
  std::shared_ptr<StreamControl> gate = stream->gate;
  std::string refused;
  if (!Track(stream, &stream->context, &refused)) {
    std::unique_ptr<PendingStream> owned(stream);
    owned->Refuse(FromRpcStatus(grpc::Status::CANCELLED, label_, call.command, refused, max_message_bytes_));
    return gate;
  }
  {
    MutexLock lock(&mu_);
    streams_.emplace(stream, gate);
  }
  stream->Begin();
  return gate;
}

struct RpcClient::PendingCancel {
  grpc::ClientContext context;
  snakepit::v1::CancelRequest request;
  snakepit::v1::CancelResponse response;
};

void RpcClient::Cancel(std::uint64_t call_id, CancelReason reason) {
  auto* cancel = new PendingCancel;
  cancel->request.set_call_id(call_id);
  cancel->request.set_reason(reason == CancelReason::kCancelled ? snakepit::v1::CancelRequest::CANCELLED
                                                                : snakepit::v1::CancelRequest::DEADLINE_EXCEEDED);
  cancel->context.set_deadline(absl::ToChronoTime(absl::Now() + kCancelRpcTimeout));
  std::string refused;
  if (!Track(cancel, &cancel->context, &refused)) {
    delete cancel;  // the worker is gone: its calls end by themselves
    return;
  }
  stub_->async()->Cancel(
      &cancel->context, &cancel->request, &cancel->response, [this, cancel, call_id](grpc::Status status) {
        Untrack(cancel);
        if (!status.ok()) {
          // A worker without the Cancel RPC, or a hung one:
          // call_kill_timeout is the fallback.
          logger()->debug("{}: Cancel of call {} failed: {}", label_, call_id, status.error_message());
        }
        delete cancel;
        Finished();
      });
}

}  // namespace snakepit::internal
