// StatsCall: one Stats RPC of the native server. It arrives on the polling
// thread, which never waits for it: the call registers with the StatsCache
// and sets a timer (a grpc::Alarm on the server's queue). It is answered,
// on the polling thread, from the cache when a fresh snapshot is there (the
// Stats thread cancels the timer) or when the timer says it waited long
// enough (StatsCache's freshness contract).
#ifndef SNAKEPIT_PYTHON_NATIVE_STATS_CALL_H_
#define SNAKEPIT_PYTHON_NATIVE_STATS_CALL_H_

#include <string>

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include "native/call_queue.h"
#include "native/stats_cache.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::native {

// Its events run on the one polling thread; Refreshed on the Stats thread.
class StatsCall final : public Tag, public StatsWaiter {
 public:
  // Asks gRPC for the next Stats RPC; the call frees itself once its reply
  // is sent (or the server shuts down). Everything passed in must outlive
  // the queue's polling. `token`: see security.h (empty: none required).
  static void Request(v1::Worker::AsyncService& service, CallQueue& queue, StatsCache& cache, const std::string& token);

  void Done(bool ok) override;
  void Refreshed() override { alarm_.Cancel(); }

 private:
  enum class State { kArriving, kWaiting, kSending };

  StatsCall(v1::Worker::AsyncService& service, CallQueue& queue, StatsCache& cache, const std::string& token)
      : service_(service), queue_(queue), cache_(cache), token_(token) {}

  void Arrived();
  // Sets the timer for `deadline`; false when the queue is shut down.
  bool Arm(absl::Time deadline);
  // Sends the response (`status` OK) or the error; frees the call if the
  // queue is shut down.
  void Send(const grpc::Status& status);

  v1::Worker::AsyncService& service_;
  CallQueue& queue_;
  StatsCache& cache_;
  const std::string& token_;
  grpc::ServerContext context_;
  v1::StatsRequest request_;
  v1::StatsResponse response_;
  grpc::ServerAsyncResponseWriter<v1::StatsResponse> responder_{&context_};
  grpc::Alarm alarm_;  // set and cancelled only under the cache's lock
  State state_ = State::kArriving;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_STATS_CALL_H_
