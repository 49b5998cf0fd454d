// The two WorkerProfile implementations.
//
// ProcessProfile: a single-threaded Python worker, capacity 1. BLAS/OpenMP
//   thread pools are pinned to 1 (OPENBLAS, MKL, OMP, NUMEXPR, VECLIB) and
//   GRPC_POLL_STRATEGY=poll, so N processes use N cores, not N x cores.
// ThreadProfile: a multi-threaded Python worker running threads_per_worker
//   calls at once, multiplexed over one gRPC channel. The same thread
//   variables are set to threads_per_worker unless the pool's env says
//   otherwise.
#ifndef SNAKEPIT_SRC_PROFILE_PROFILES_H_
#define SNAKEPIT_SRC_PROFILE_PROFILES_H_

#include <map>
#include <memory>
#include <string>

#include "profile/worker_site.h"
#include "worker/python_worker.h"

namespace snakepit::internal {

class ProcessProfile final : public PythonWorker {
 public:
  ProcessProfile(const PoolConfig& config, const WorkerSite& site, int id, ExitCallback on_exit);
  // The variables this profile sets (before the pool's env is applied).
  static std::map<std::string, std::string> Environment();
};

class ThreadProfile final : public PythonWorker {
 public:
  ThreadProfile(const PoolConfig& config, const WorkerSite& site, int id, ExitCallback on_exit);
  static std::map<std::string, std::string> Environment(int threads_per_worker);
};

// The worker for `profile` (which may differ from config.profile when a
// thread pool falls back to processes).
std::unique_ptr<WorkerProfile> MakeWorker(Profile profile, const PoolConfig& config, const WorkerSite& site, int id,
                                          WorkerProfile::ExitCallback on_exit);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROFILE_PROFILES_H_
