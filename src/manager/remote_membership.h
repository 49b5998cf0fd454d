// RemoteMembership: a remote pool's workers follow the addresses its
// target resolves to (docs/remote.md).
//
// Every resolve_interval the target is resolved again
// (worker/remote_resolver.h). Each address gets one RemoteWorker, added to
// the pool with Pool::AddWorker (its capacity from its Stats); an address
// no longer resolved has its worker drained and removed
// (Pool::RetireWorker). A worker that is ejected (its calls failed at the
// transport, or its health probes did) leaves the pool at once
// (WorkerSupervisor); its address is readmitted after a backoff that
// doubles per failure, from eject_backoff_initial up to eject_backoff_max,
// and resets once a worker there has lasted eject_backoff_max. When a
// resolution fails, the last addresses known are kept.
//
// Threading: one thread of its own runs the rounds; Start() runs the
// first on the caller's thread. MakeWorker() is the pool's worker factory
// and runs inside Pool::AddWorker, on the thread that called it.
#ifndef SNAKEPIT_SRC_MANAGER_REMOTE_MEMBERSHIP_H_
#define SNAKEPIT_SRC_MANAGER_REMOTE_MEMBERSHIP_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "config/remote_target.h"
#include "pool/pool.h"
#include "worker/rpc_client.h"

namespace snakepit::internal {

class RemoteMembership {
 public:
  // For `config` (a remote pool): reads its token and TLS files now, so a
  // wrong path fails before anything connects (INVALID_ARGUMENT naming the
  // key; see RemoteCredentials).
  static absl::StatusOr<std::unique_ptr<RemoteMembership>> Create(const PoolConfig& config);
  ~RemoteMembership();  // Stop()
  RemoteMembership(const RemoteMembership&) = delete;
  RemoteMembership& operator=(const RemoteMembership&) = delete;

  // The pool's WorkerFactory: a RemoteWorker for the address being added
  // on this thread (an empty address, whose start fails, when called
  // outside AddWorker).
  std::unique_ptr<Worker> MakeWorker(int id, Worker::ExitCallback on_exit);

  // Resolves the target and adds a worker per address, then keeps doing so
  // on a thread of its own. UNAVAILABLE, naming the pool and the target,
  // when the target does not resolve or no worker could be added (with
  // the first worker's error). `pool` (made with MakeWorker as its
  // factory) must outlive Stop(). Call once.
  [[nodiscard]] absl::Status Start(Pool& pool);
  // Ends the rounds and joins the thread; idempotent. The pool's workers
  // stay (the pool's shutdown stops them).
  void Stop();

 private:
  struct Member {
    int worker_id = -1;  // -1: none in the pool now
    absl::Time next_try = absl::InfinitePast();
    absl::Duration backoff;
    absl::Time live_since = absl::InfinitePast();
  };

  RemoteMembership(const PoolConfig& config, RemoteTarget target, RpcEndpoint credentials);
  // One round at `now`; returns the first error of a failed add, if any.
  absl::Status Round(absl::Time now);
  // Starts workers for `addresses` in parallel; notes each outcome.
  absl::Status Add(const std::vector<std::string>& addresses, absl::Time now);
  // When the next round is due.
  absl::Time NextRound() const;
  void Run();

  const PoolConfig config_;
  const RemoteTarget target_;
  const RpcEndpoint credentials_;  // target left empty
  Pool* pool_ = nullptr;           // set by Start

  // The round's state: touched by Start() and then by the thread only.
  std::map<std::string, Member> members_;
  std::vector<std::string> resolved_;
  absl::Time next_resolve_ = absl::InfinitePast();
  std::string resolve_error_;  // the last failure logged, to log each once

  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_MANAGER_REMOTE_MEMBERSHIP_H_
