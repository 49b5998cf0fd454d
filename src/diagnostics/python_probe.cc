// PythonEnvironment::Probe: runs `python -m snakepit_worker.probe` with the
// interpreter and reads its one-line JSON answer.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "manager/worker_package.h"
#include "process/run_capture.h"
#include "profile/worker_site.h"
#include "snakepit/python_environment.h"

namespace snakepit {
namespace {

// The probe prints one JSON object on a line of its own; warnings an
// interpreter or a module prints go to the same pipe, so look for it.
std::optional<nlohmann::json> FindAnswer(const std::string& output) {
  std::optional<nlohmann::json> answer;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (line.empty() || line.front() != '{') continue;
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("version")) answer = std::move(j);
  }
  return answer;
}

template <typename T>
T Field(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;
  }
}

}  // namespace

absl::StatusOr<PythonEnvironment> PythonEnvironment::FromJson(const nlohmann::json& probe) {
  if (!probe.is_object() || !probe.contains("version")) {
    return absl::InvalidArgumentError(absl::StrCat("not a probe answer: ", probe.dump().substr(0, 200)));
  }
  PythonEnvironment env;
  env.raw = probe;
  env.executable = Field<std::string>(probe, "executable", "");
  env.version = Field<std::string>(probe, "version", "");
  env.implementation = Field<std::string>(probe, "implementation", "");
  env.free_threaded_build = Field<bool>(probe, "free_threaded_build", false);
  env.gil_enabled = Field<bool>(probe, "gil_enabled", true);
  env.gil_enabled_after_imports = Field<bool>(probe, "gil_enabled_after_imports", env.gil_enabled);
  env.gil_reenabled_by = Field<std::vector<std::string>>(probe, "gil_reenabled_by", {});
  env.grpc_version = Field<std::string>(probe, "grpc_version", "");
  env.grpc_error = Field<std::string>(probe, "grpc_error", "");
  env.protobuf_version = Field<std::string>(probe, "protobuf_version", "");
  env.protobuf_implementation = Field<std::string>(probe, "protobuf_implementation", "");
  env.packages = Field<std::map<std::string, std::string>>(probe, "packages", {});
  env.cpu_count = Field<int>(probe, "cpu_count", 0);
  env.platform = Field<std::string>(probe, "platform", "");
  return env;
}

absl::StatusOr<PythonEnvironment> PythonEnvironment::Probe(const ProbeOptions& options) {
  SNAKEPIT_ASSIGN_OR_RETURN(std::string package, internal::FindWorkerPackage());
  internal::WorkerSite site;
  site.worker_package = package;
  PoolConfig config;
  config.python_path = options.python_path;
  internal::SpawnRequest request;
  request.executable = options.python.empty() ? internal::DefaultPython() : options.python;
  request.argv = {request.executable, "-m", "snakepit_worker.probe"};
  if (!options.packages) request.argv.push_back("--no-packages");
  for (const std::string& module : options.imports) {
    request.argv.push_back("--import");
    request.argv.push_back(module);
  }
  request.env = internal::WorkerEnvironment(config, site, {});

  absl::StatusOr<internal::CapturedRun> run =
      internal::RunAndCapture(request, absl::Now() + absl::FromChrono(options.timeout));
  if (absl::IsNotFound(run.status())) {
    return absl::NotFoundError(absl::StrCat("python interpreter '", request.executable, "' not found"));
  }
  if (!run.ok()) {
    return absl::Status(run.status().code(),
                        absl::StrCat("probing '", request.executable, "': ", std::string(run.status().message())));
  }
  std::optional<nlohmann::json> answer = FindAnswer(run->output);
  if (run->exit.signal != 0 || run->exit.exit_code != 0 || !answer) {
    return absl::FailedPreconditionError(absl::StrCat("probing '", request.executable, "' failed (",
                                                      run->exit.ToString(), "); its output:\n", run->output));
  }
  return FromJson(*answer);
}

}  // namespace snakepit
