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
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "nlohmann/json.hpp"
#include "snakepit/v1/worker.grpc.pb.h"
#include "worker/worker.h"

namespace snakepit::internal {

// Where one worker listens and how to talk to it.
struct RpcEndpoint {
  std::string target;  // gRPC target: "unix:/path" or "host:port"
  // Sent as "snakepit-token" metadata with every RPC; empty: none.
  std::string token;
  // Non-empty: TLS, verifying the worker's certificate against these PEM
  // roots. Empty: plaintext.
  std::string tls_roots_pem;
  // The name the certificate must carry; empty: the target's host.
  std::string tls_server_name;
  // Mutual TLS (remote pools): the host's certificate chain and private
  // key, PEM text; both empty: none.
  std::string tls_client_cert_pem;
  std::string tls_client_key_pem;
  // Non-zero: HTTP/2 keepalive pings this often, and a connection whose
  // ping is not answered within the same time is closed, failing its calls
  // with UNAVAILABLE (a remote worker whose host vanished without a word).
  // Zero: none (a local worker's death is seen by its exit watcher).
  absl::Duration keepalive = absl::ZeroDuration();
};

// Payload of a HealthAsync failure whose worker answered but is not
// SERVING: the state's name ("STOPPING": it drains).
inline constexpr char kHealthStatePayload[] = "snakepit.health_state";

class RpcClient {
 public:
  // `label` prefixes error texts.
  RpcClient(const RpcEndpoint& endpoint, std::string label, std::int64_t max_message_bytes);
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Blocks until the channel is connected or `deadline`.
  [[nodiscard]] absl::Status WaitConnected(absl::Time deadline);

  // Asynchronous Execute; see Worker::Execute.
  void Execute(WorkerCall call, Worker::Done done);

  // Asynchronous ExecuteStream (rpc_stream.cc); see Worker::ExecuteStream.
  // Reads one message at a time: while the handlers hold reading paused,
  // nothing more is read, so gRPC flow control holds back the worker.
  std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers);

  // The Cancel RPC, fire and forget (rpc_stream.cc); see Worker::Cancel.
  void Cancel(std::uint64_t call_id, CancelReason reason);

  // Health probe: OK only if the worker answers SERVING by `deadline`;
  // UNAVAILABLE otherwise. `done` runs exactly once, on a gRPC thread (or
  // inline if the client is already aborted), and must not block.
  void HealthAsync(absl::Time deadline, std::function<void(absl::Status)> done);

  // The worker's Stats RPC as JSON (rpc_stats.cc); see
  // Worker::Diagnostics. `done` as for HealthAsync.
  void StatsAsync(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done);

  // Fails every call in flight and every later call with UNAVAILABLE.
  void Abort(const std::string& reason);

 private:
  struct PendingCall;
  struct PendingHealth;
  struct PendingStats;
  class PendingStream;
  struct PendingCancel;
  void Finish(PendingCall* call, const grpc::Status& rpc_status);
  void FinishHealth(PendingHealth* probe, const grpc::Status& rpc_status);
  void FinishStats(PendingStats* query, const grpc::Status& rpc_status);
  // Registers an RPC so Abort() can cancel it and the destructor waits for
  // its callback, and adds the worker's token to its metadata; false (and
  // nothing registered) if already aborted. Every RPC passes through here.
  bool Track(void* rpc, grpc::ClientContext* context, std::string* abort_reason);
  // Untrack() first thing in the RPC's callback (it returns the abort
  // reason, empty if none), Finished() once the record (and its
  // ClientContext) is deleted. Taking mu_ before touching the record also
  // orders the callback after Track() for ThreadSanitizer, which cannot see
  // gRPC's own hand-off of the call between threads.
  std::string Untrack(void* rpc);
  void Finished();

  const std::string label_;
  const std::string target_;
  const std::string token_;
  const bool tls_;
  const std::int64_t max_message_bytes_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<snakepit::v1::Worker::Stub> stub_;

  Mutex mu_;
  std::string abort_reason_ ABSL_GUARDED_BY(mu_);  // non-empty once aborted
  // Every RPC in flight (Execute and Health), by its pending record.
  std::unordered_map<void*, grpc::ClientContext*> pending_ ABSL_GUARDED_BY(mu_);
  int finishing_ ABSL_GUARDED_BY(mu_) = 0;  // untracked, not yet deleted
  // Streams in flight (also in pending_), resumed by Abort() so that a
  // paused one ends too.
  std::unordered_map<void*, std::shared_ptr<StreamControl>> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_RPC_CLIENT_H_
