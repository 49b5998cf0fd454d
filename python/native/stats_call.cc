#include "native/stats_call.h"

#include "absl/time/clock.h"
#include "native/security.h"

namespace snakepit::native {

void StatsCall::Request(v1::Worker::AsyncService& service, CallQueue& queue, StatsCache& cache,
                        const std::string& token) {
  auto* call = new StatsCall(service, queue, cache, token);
  const bool started = queue.Start([call](grpc::ServerCompletionQueue* cq) {
    call->service_.RequestStats(&call->context_, &call->request_, &call->responder_, cq, cq, call);
  });
  if (!started) delete call;
}

void StatsCall::Done(bool ok) {
  switch (state_) {
    case State::kArriving:
      if (!ok) {  // no RPC came: the server is shutting down
        delete this;
        return;
      }
      Arrived();
      return;
    case State::kWaiting:
      // ok: the timer fired; else the Stats thread cancelled it (refreshed).
      if (ok && cache_.KeepWaiting(*this, [this](absl::Time deadline) { return Arm(deadline); })) return;
      cache_.Forget(*this);
      Send(cache_.Fill(response_));
      return;
    case State::kSending:
      delete this;
      return;
  }
}

void StatsCall::Arrived() {
  Request(service_, queue_, cache_, token_);  // the next one
  if (!Authorized(context_, token_)) {
    Send(Unauthenticated());
    return;
  }
  state_ = State::kWaiting;
  if (!cache_.Await(*this, [this](absl::Time deadline) { return Arm(deadline); })) delete this;
}

bool StatsCall::Arm(absl::Time deadline) {
  return queue_.Start(
      [this, deadline](grpc::ServerCompletionQueue* cq) { alarm_.Set(cq, absl::ToChronoTime(deadline), this); });
}

void StatsCall::Send(const grpc::Status& status) {
  state_ = State::kSending;
  const bool started = queue_.Start([this, &status](grpc::ServerCompletionQueue* /*cq*/) {
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  });
  if (!started) delete this;
}

}  // namespace snakepit::native
