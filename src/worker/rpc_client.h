// RpcClient: the gRPC channel to one worker and the calls in flight on it.
//
// Threading: every method is thread-safe. Completion callbacks run on gRPC's
// callback threads and must not block.
// Death: after Abort(reason), every call in flight is cancelled and
// completes with UNAVAILABLE carrying `reason`; later calls fail the same
// way at once. Nothing waits on a dead worker.
#ifndef SNAKEPIT_SRC_WORKER_RPC_CLIENT_H_
#define SNAKEPIT_SRC_WORKER_RPC_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "profile/worker_profile.h"
#include "snakepit/v1/worker.grpc.pb.h"

namespace snakepit::internal {

class RpcClient {
 public:
  // `target` is a gRPC target ("unix:/path"). `label` prefixes error texts.
  RpcClient(const std::string& target, std::string label, std::int64_t max_message_bytes);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Blocks until the channel is connected or `deadline`.
  [[nodiscard]] absl::Status WaitConnected(absl::Time deadline);

  // Asynchronous Execute; see WorkerProfile::Execute.
  void Execute(WorkerCall call, WorkerProfile::Done done);

  // Synchronous Health probe; OK only if the worker answers SERVING.
  [[nodiscard]] absl::Status Health(absl::Time deadline);

  // Fails every call in flight and every later call with UNAVAILABLE.
  void Abort(const std::string& reason);

  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  struct PendingCall;
  void Finish(PendingCall* call, const grpc::Status& rpc_status);

  const std::string label_;
  const std::int64_t max_message_bytes_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<snakepit::v1::Worker::Stub> stub_;
  std::atomic<int> in_flight_{0};

  absl::Mutex mu_;
  std::string abort_reason_ ABSL_GUARDED_BY(mu_);  // non-empty once aborted
  std::unordered_map<PendingCall*, grpc::ClientContext*> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_RPC_CLIENT_H_
