#include "profile/profiles.h"

#include <utility>

namespace snakepit::internal {
namespace {

std::map<std::string, std::string> ThreadVariables(const std::string& n) {
  return {{"OPENBLAS_NUM_THREADS", n},
          {"MKL_NUM_THREADS", n},
          {"OMP_NUM_THREADS", n},
          {"NUMEXPR_NUM_THREADS", n},
          {"VECLIB_MAXIMUM_THREADS", n}};
}

}  // namespace

std::map<std::string, std::string> ProcessProfile::Environment() {
  std::map<std::string, std::string> env = ThreadVariables("1");
  env["GRPC_POLL_STRATEGY"] = "poll";
  return env;
}

ProcessProfile::ProcessProfile(const PoolConfig& config, const WorkerSite& site, int id, ExitCallback on_exit)
    : PythonWorker(MakeWorkerSpec(config, site, id, Profile::kProcess, 1, Environment()), std::move(on_exit)) {}

std::map<std::string, std::string> ThreadProfile::Environment(int threads_per_worker) {
  return ThreadVariables(std::to_string(threads_per_worker));
}

ThreadProfile::ThreadProfile(const PoolConfig& config, const WorkerSite& site, int id, ExitCallback on_exit)
    : PythonWorker(MakeWorkerSpec(config, site, id, Profile::kThread, config.effective_threads_per_worker(),
                                  Environment(config.effective_threads_per_worker())),
                   std::move(on_exit)) {}

std::unique_ptr<WorkerProfile> MakeWorker(Profile profile, const PoolConfig& config, const WorkerSite& site, int id,
                                          WorkerProfile::ExitCallback on_exit) {
  if (profile == Profile::kThread) return std::make_unique<ThreadProfile>(config, site, id, std::move(on_exit));
  return std::make_unique<ProcessProfile>(config, site, id, std::move(on_exit));
}

}  // namespace snakepit::internal
