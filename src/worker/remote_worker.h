// RemoteWorker: one worker server at one address (`python -m
// snakepit_worker serve`, docs/remote.md), which the library did not start
// and cannot stop, reached over TCP+TLS through an RpcClient, so calls,
// health and stats (and whatever RpcClient carries) work as for a
// PythonWorker.
//
// Its "process" is its usefulness to the pool: Start() connects, checks
// health and reads its capacity from Stats; the worker "exits" (the
// ExitCallback runs, on a thread of its own) when it is ejected: a call
// fails at the transport (UNAVAILABLE: the pod died, its node vanished,
// or it is draining), the pool kills it (failed health probes), or it is
// stopped. The server itself lives on; the pool's membership
// (manager/remote_membership.h) readmits its address after a backoff.
//
// pid() is 0 in metadata: the process is on another machine, and the pool's
// /proc readers must not measure a local process of that number.
// Threading: all methods are thread-safe; Start() and Stop() must not run
// concurrently with each other.
#ifndef SNAKEPIT_SRC_WORKER_REMOTE_WORKER_H_
#define SNAKEPIT_SRC_WORKER_REMOTE_WORKER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "worker/rpc_client.h"
#include "worker/worker.h"

namespace snakepit::internal {

struct RemoteWorkerSpec {
  std::string pool;
  int id = 0;
  RpcEndpoint endpoint;  // target: the worker's address; credentials from RemoteCredentials()
  std::int64_t max_message_bytes = 0;

  std::string label() const { return pool + "-" + std::to_string(id); }
};

class RemoteWorker final : public Worker {
 public:
  RemoteWorker(RemoteWorkerSpec spec, ExitCallback on_exit);
  ~RemoteWorker() override;  // Stop(), then waits for the ExitCallback
  RemoteWorker(const RemoteWorker&) = delete;
  RemoteWorker& operator=(const RemoteWorker&) = delete;

  // Connects, then asks Health (must be SERVING: the token and TLS are
  // checked here) and Stats (capacity = max_concurrency), all by
  // `deadline`. On error the status names the address and the cause.
  absl::Status Start(absl::Time deadline) override;
  // Ends the connection (calls in flight fail with UNAVAILABLE); the
  // remote server goes on. Idempotent.
  void Stop(absl::Duration grace) override;
  void Execute(WorkerCall call, Done done) override;
  // As Execute: a stream that ends UNAVAILABLE ejects the worker first.
  std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers) override;
  void Cancel(std::uint64_t call_id, CancelReason reason) override;
  // Ejects the worker (see the class comment); non-blocking. Its calls in
  // flight fail with UNAVAILABLE at once, unless its last health answer
  // said it drains (STOPPING, after a SIGTERM): then they are left to
  // finish, as the server finishes them within its grace period.
  void Kill() override;
  std::string DumpStacks(absl::Time) override { return ""; }  // its stacks are on its own host
  void CheckHealth(absl::Time deadline, std::function<void(absl::Status)> done) override;
  void Diagnostics(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) override;
  int capacity() const override { return capacity_.load(); }
  WorkerMetadata metadata() const override;

 private:
  // Ends the worker's membership once: aborts the channel with `reason`
  // and runs the ExitCallback on exit_thread_.
  void Exit(const std::string& reason, bool abort_calls = true);
  std::shared_ptr<RpcClient> Rpc() const;
  absl::Status NotConnected() const;
  // Ejects the worker when a call's transport failed (UNAVAILABLE).
  void EjectIfUnreachable(const absl::Status& status);

  const RemoteWorkerSpec spec_;
  const ExitCallback on_exit_;
  std::atomic<int> capacity_{1};
  std::atomic<bool> exited_{false};
  std::atomic<bool> draining_{false};  // its health said STOPPING

  mutable Mutex mu_;
  WorkerMetadata metadata_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<RpcClient> rpc_ ABSL_GUARDED_BY(mu_);
  std::thread exit_thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REMOTE_WORKER_H_
