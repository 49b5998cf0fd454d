// WorkerService: snakepit.v1.Worker on gRPC's asynchronous API, for the
// native server. It keeps one RPC of each method requested from gRPC at all
// times. On arrival, on the polling thread, an Execute or ExecuteStream
// goes to an idle HandlerPool thread or is answered BUSY at once (built in
// C++), Health and Cancel are answered at once (a Cancel is passed on to
// the open call and to Python through the Canceller), and Stats waits,
// without blocking the thread, for the StatsCache (stats_call.h). The
// polling thread never runs Python nor takes the GIL, so a handler that
// holds the GIL delays none of these.
#ifndef SNAKEPIT_PYTHON_NATIVE_WORKER_SERVICE_H_
#define SNAKEPIT_PYTHON_NATIVE_WORKER_SERVICE_H_

#include <atomic>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "native/call_counters.h"
#include "native/call_queue.h"
#include "native/canceller.h"
#include "native/control_call.h"
#include "native/execute_call.h"
#include "native/handler_pool.h"
#include "native/open_calls.h"
#include "native/stats_cache.h"
#include "native/stream_call.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::native {

// Thread-safe. `handlers`, `open`, `counters`, `stats` and `canceller` must
// outlive the service, and the service the polling of its queue.
class WorkerService final : public ExecuteArrivals, public StreamArrivals {
 public:
  // `token`: see security.h (empty: none required).
  WorkerService(HandlerPool& handlers, OpenCalls& open, CallCounters& counters, StatsCache& stats, Canceller& canceller,
                std::string token);

  // What ServerBuilder::RegisterService takes.
  grpc::Service* service() { return &service_; }

  // Requests the first RPC of each method on `queue`, which the service
  // uses from now on. Call once, after the server started.
  void Start(CallQueue& queue);

  // From now on Health answers STOPPING and Execute UNAVAILABLE.
  void StopAccepting();

  void Arrived(std::shared_ptr<ExecuteCall> call) override;
  void Arrived(std::shared_ptr<StreamCall> call) override;

 private:
  grpc::Status Health(const grpc::ServerContext& context, v1::HealthResponse& response) const;
  grpc::Status Cancel(const grpc::ServerContext& context, const v1::CancelRequest& request,
                      v1::CancelResponse& response);

  v1::Worker::AsyncService service_;
  HandlerPool& handlers_;
  OpenCalls& open_;
  CallCounters& counters_;
  StatsCache& stats_;
  Canceller& canceller_;
  const std::string token_;
  CallQueue* queue_ = nullptr;  // set once by Start
  std::atomic<bool> stopping_{false};
  const ControlCall<v1::HealthRequest, v1::HealthResponse>::Answer health_;
  const ControlCall<v1::CancelRequest, v1::CancelResponse>::Answer cancel_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_WORKER_SERVICE_H_
