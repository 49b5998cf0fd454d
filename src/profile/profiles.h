// The worker profiles: the policy that turns a pool's configuration into
// the spec of one worker. A profile decides two things, and the pool sees
// neither directly (only Worker::capacity() and metadata()):
//
// process: capacity 1. BLAS/OpenMP thread pools are pinned to 1 (OPENBLAS,
//   MKL, OMP, NUMEXPR, VECLIB) and GRPC_POLL_STRATEGY=poll, so N processes
//   use N cores, not N x cores.
// thread: capacity threads_per_worker, calls multiplexed over one channel;
//   the same thread variables are set to threads_per_worker.
// In both, the pool's `env` wins over the profile's variables.
#ifndef SNAKEPIT_SRC_PROFILE_PROFILES_H_
#define SNAKEPIT_SRC_PROFILE_PROFILES_H_

#include <map>
#include <memory>
#include <string>

#include "profile/template_set.h"
#include "profile/worker_site.h"
#include "worker/worker.h"
#include "worker/worker_spec.h"

namespace snakepit::internal {

// The variables `profile` sets (before the pool's env is applied).
std::map<std::string, std::string> ProfileEnvironment(Profile profile, int threads_per_worker);

// The spec of worker `id` under `profile` (which may differ from
// config.profile when a thread pool falls back to processes).
WorkerSpec ProfileSpec(Profile profile, const PoolConfig& config, const WorkerSite& site, int id);

// A PythonWorker made from ProfileSpec(), forked from a template of
// `templates` when the pool's start_method allows (null: spawned). Nothing
// is started yet.
std::unique_ptr<Worker> MakeWorker(Profile profile, const PoolConfig& config, const WorkerSite& site, int id,
                                   Worker::ExitCallback on_exit, TemplateSet* templates = nullptr);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROFILE_PROFILES_H_
