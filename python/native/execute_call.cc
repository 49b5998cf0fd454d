#include "native/execute_call.h"

#include <cstdint>
#include <utility>

#include "native/call_runner.h"
#include "native/job_steps.h"

namespace snakepit::native {

namespace {

// How long the finishing thread waits for gRPC to send a reply. A reply
// that takes longer (a large one to a slow reader) is waited for by the
// call's destructor instead.
constexpr auto kSendWait = std::chrono::seconds(10);

}  // namespace

void ExecuteCall::Arrival::Done(bool ok) {
  std::shared_ptr<ExecuteCall> held = std::move(call);  // the queue lets go of the call
  if (ok) held->arrivals_.Arrived(held);                // else: the server is shutting down, no RPC came
}

ExecuteCall::~ExecuteCall() {
  reply_queue_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  // Every operation ends once the reply is sent or the RPC cancelled; a
  // server that shuts down cancels them all.
  while (reply_queue_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kSendWait) !=
         grpc::CompletionQueue::SHUTDOWN) {
  }
}

bool ExecuteCall::Request(v1::Worker::AsyncService& service, CallQueue& queue, OpenCalls& open,
                          ExecuteArrivals& arrivals) {
  std::shared_ptr<ExecuteCall> call(new ExecuteCall(open, arrivals));
  ExecuteCall& c = *call;
  c.arrival_.call = std::move(call);
  const bool started = queue.Start([&c, &service](grpc::ServerCompletionQueue* cq) {
    service.RequestExecute(&c.context_, &c.request_, &c.responder_, &c.reply_queue_, cq, &c.arrival_);
  });
  if (!started) c.arrival_.call.reset();  // frees the call
  return started;
}

bool ExecuteCall::Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  read(request_);
  return true;
}

CallRequest::Attachments ExecuteCall::TakeAttachments() {
  absl::MutexLock lock(&mu_);
  return std::move(*request_.mutable_attachments());
}

bool ExecuteCall::MarkFinished(v1::ExecuteResponse* reply) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  finished_ = true;
  if (reply != nullptr) response_ = std::move(*reply);
  return true;
}

void ExecuteCall::Reply(v1::ExecuteResponse&& reply) {
  if (MarkFinished(&reply)) Send(grpc::Status::OK);
}

void ExecuteCall::Fail(const grpc::Status& status) {
  if (MarkFinished(nullptr)) Send(status);
}

void ExecuteCall::CancelRequested(bool deadline_exceeded) {
  absl::MutexLock lock(&mu_);
  if (!cancel_.has_value()) cancel_ = deadline_exceeded;
}

void ExecuteCall::Run(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle) {
  std::optional<bool> cancel;
  std::uint64_t call_id = 0;
  {
    absl::MutexLock lock(&mu_);
    cancel = cancel_;
    call_id = request_.call_id();
  }
  RunExecute(runner, counters, idle, call_id, cancel, *this, /*held=*/nullptr,
             [this](v1::ExecuteResponse&& reply) { Reply(std::move(reply)); });
}

void ExecuteCall::Send(const grpc::Status& status) {
  if (status.ok()) {
    responder_.Finish(response_, status, this);
  } else {
    responder_.FinishWithError(status, this);
  }
  // Sent, or taking long: either way the call no longer holds a drain up
  // (a reply still on its way is waited for by the destructor).
  AwaitSent(std::chrono::system_clock::now() + kSendWait);
  open_.Remove(this);
}

bool ExecuteCall::AwaitSent(std::chrono::system_clock::time_point deadline) {
  void* tag = nullptr;
  bool ok = false;
  return reply_queue_.AsyncNext(&tag, &ok, deadline) == grpc::CompletionQueue::GOT_EVENT;
}

}  // namespace snakepit::native
