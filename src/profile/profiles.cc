#include "profile/profiles.h"

#include <utility>

#include "worker/python_worker.h"

namespace snakepit::internal {

std::map<std::string, std::string> ProfileEnvironment(Profile profile, int threads_per_worker) {
  const std::string n = profile == Profile::kThread ? std::to_string(threads_per_worker) : "1";
  std::map<std::string, std::string> env = {{"OPENBLAS_NUM_THREADS", n},
                                            {"MKL_NUM_THREADS", n},
                                            {"OMP_NUM_THREADS", n},
                                            {"NUMEXPR_NUM_THREADS", n},
                                            {"VECLIB_MAXIMUM_THREADS", n}};
  if (profile == Profile::kProcess) env["GRPC_POLL_STRATEGY"] = "poll";
  return env;
}

WorkerSpec ProfileSpec(Profile profile, const PoolConfig& config, const WorkerSite& site, int id) {
  const int threads = config.effective_threads_per_worker();
  const int capacity = profile == Profile::kThread ? threads : 1;
  return MakeWorkerSpec(config, site, id, profile, capacity, ProfileEnvironment(profile, threads));
}

std::unique_ptr<Worker> MakeWorker(Profile profile, const PoolConfig& config, const WorkerSite& site, int id,
                                   Worker::ExitCallback on_exit, TemplateSet* templates) {
  WorkerSpec spec = ProfileSpec(profile, config, site, id);
  if (templates != nullptr) templates->Assign(spec);
  return std::make_unique<PythonWorker>(std::move(spec), std::move(on_exit));
}

}  // namespace snakepit::internal
