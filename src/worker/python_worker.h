// PythonWorker: one Python worker process reached over gRPC on a Unix
// socket (or TCP). Its spec (environment, capacity) comes from the pool's
// profile (src/profile/profiles.h).
//
// Lifetime: Start() spawns the process with a lifeline pipe (its EOF makes
// the worker exit, so a crashed host leaves no orphan), waits for the
// readiness record, then connects. The destructor stops the process if it
// still runs, so an instance never outlives its process or leaks it.
// Threading: all methods are thread-safe; Start() and Stop() must not run
// concurrently with each other.
#ifndef SNAKEPIT_SRC_WORKER_PYTHON_WORKER_H_
#define SNAKEPIT_SRC_WORKER_PYTHON_WORKER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "common/unique_fd.h"
#include "process/child_process.h"
#include "worker/output_watcher.h"
#include "worker/rpc_client.h"
#include "worker/shm_client.h"
#include "worker/worker.h"
#include "worker/worker_spec.h"

namespace snakepit::internal {

class PythonWorker final : public Worker {
 public:
  PythonWorker(WorkerSpec spec, ExitCallback on_exit);
  ~PythonWorker() override;
  PythonWorker(const PythonWorker&) = delete;
  PythonWorker& operator=(const PythonWorker&) = delete;

  absl::Status Start(absl::Time deadline) override;
  void Stop(absl::Duration grace) override;
  void Execute(WorkerCall call, Done done) override;
  std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers) override;
  void Cancel(std::uint64_t call_id, CancelReason reason) override;
  void Kill() override;
  std::string DumpStacks(absl::Time deadline) override;
  void CheckHealth(absl::Time deadline, std::function<void(absl::Status)> done) override;
  void Diagnostics(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) override;
  int capacity() const override { return spec_.capacity; }
  WorkerMetadata metadata() const override;

 private:
  // Runs on the watcher thread when the process exits.
  void OnExit(const ExitInfo& info);
  absl::Status StartFailure(absl::Status why);
  absl::Status Launch(absl::Time deadline);
  // Forks the process from spec_.fork_from, or spawns it: see
  // WorkerSpec::fork_from. `fds`: output, lifeline, ready and stacks.
  absl::StatusOr<std::unique_ptr<ChildProcess>> CreateProcess(const SpawnRequest& request, const std::string& token,
                                                              const std::vector<int>& fds, absl::Time deadline);
  // The channel, once connected (null before); a copy, so callers use it
  // outside mu_.
  std::shared_ptr<RpcClient> Rpc() const;
  // The shared-memory data plane, when the worker took it (null: calls go
  // over Rpc()); a copy, as Rpc().
  std::shared_ptr<ShmClient> Shm() const;
  // A channel for the shared-memory data plane, when the pool's transport
  // wants one; else null, and `why_not` says why (empty when not wanted).
  std::unique_ptr<ShmChannel> OfferShm(std::string* why_not) const;

  const WorkerSpec spec_;
  const ExitCallback on_exit_;
  std::atomic<bool> dead_{false};  // exited, stopped or failed to start

  mutable Mutex mu_;
  WorkerMetadata metadata_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ChildProcess> child_;     // set by Start, before the watcher
  std::unique_ptr<OutputWatcher> watcher_;  // set by Start
  std::shared_ptr<RpcClient> rpc_ ABSL_GUARDED_BY(mu_);
  // Never reset before the destructor (a Stop aborts it): callers hold
  // copies. Destroyed before child_, so its threads never outlive the
  // process they read from.
  std::shared_ptr<ShmClient> shm_ ABSL_GUARDED_BY(mu_);
  UniqueFd lifeline_;     // write end; closing it kills the worker
  UniqueFd stacks_;       // read end (non-blocking) of the worker's --stacks-fd
  bool stopped_ = false;  // Stop() ran; Start/Stop thread only
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_PYTHON_WORKER_H_
