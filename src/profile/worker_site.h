// WorkerSite: what every worker of a PoolManager shares, whatever its pool.
#ifndef SNAKEPIT_SRC_PROFILE_WORKER_SITE_H_
#define SNAKEPIT_SRC_PROFILE_WORKER_SITE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "snakepit/config.h"
#include "worker/worker_spec.h"
#include "worker/worker_token.h"

namespace snakepit::internal {

struct WorkerSite {
  std::string socket_dir;      // private 0700 directory for the sockets
  std::string worker_package;  // directory holding snakepit_worker/ (PYTHONPATH)
  std::string default_python;  // interpreter for pools that name none
  // Draws each worker's token (WorkerSpec::new_token). Tests replace it to
  // learn the tokens; nothing else should.
  std::function<absl::StatusOr<std::string>()> new_token = NewWorkerToken;
};

// A worker's complete environment ("KEY=value"): a few variables of the
// host (PATH, HOME, locale, TMPDIR), then `profile_env`, then config.env;
// PYTHONPATH is config.python_path, the user's PYTHONPATH, then the worker
// package.
std::vector<std::string> WorkerEnvironment(const PoolConfig& config, const WorkerSite& site,
                                           const std::map<std::string, std::string>& profile_env);

// Builds the spec of worker `id` of `config` with the given profile-level
// choices. `profile_env` is applied over the clean base environment and
// under config.env (the user's values win).
WorkerSpec MakeWorkerSpec(const PoolConfig& config, const WorkerSite& site, int id, Profile profile, int capacity,
                          const std::map<std::string, std::string>& profile_env);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROFILE_WORKER_SITE_H_
