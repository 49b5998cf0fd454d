// PythonEnvironment: what an interpreter is and has, found by running a
// probe with it (python -m snakepit_worker.probe), and the worker profile
// that fits it.
#ifndef SNAKEPIT_PYTHON_ENVIRONMENT_H_
#define SNAKEPIT_PYTHON_ENVIRONMENT_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/compatibility.h"
#include "snakepit/config.h"
#include "snakepit/export.h"

namespace snakepit {

struct SNAKEPIT_EXPORT ProbeOptions {
  // Interpreter to probe; empty: the library's default (/usr/bin/python3).
  // (The "= {}" initialisers let callers write designated initialisers
  // without -Wmissing-field-initializers.)
  std::string python = {};
  // List every installed distribution (importlib.metadata); slower.
  // Default: true.
  bool packages = true;
  // Modules to import after the base probe, to see whether one turns the
  // GIL back on (free-threaded builds). Default: none.
  std::vector<std::string> imports = {};
  // Directories put first on the probe's sys.path, as a pool's python_path
  // is, so that `imports` can name the pool's own modules. Default: none.
  std::vector<std::string> python_path = {};
  // The probe is killed after this. Default: 30 s.
  std::chrono::milliseconds timeout{30'000};
};

struct SNAKEPIT_EXPORT PythonEnvironment {
  std::string executable;            // sys.executable
  std::string version;               // "3.11.2"
  std::string implementation;        // "cpython"
  bool free_threaded_build = false;  // Py_GIL_DISABLED
  bool gil_enabled = true;           // sys._is_gil_enabled() before any import
  bool gil_enabled_after_imports = true;
  // Modules whose import turned the GIL back on (free-threaded builds).
  std::vector<std::string> gil_reenabled_by;
  std::string grpc_version;  // "" when grpc does not import (then grpc_error says why)
  std::string grpc_error;
  std::string protobuf_version;
  std::string protobuf_implementation;          // "upb", "cpp", "python"
  std::map<std::string, std::string> packages;  // normalised name -> version
  int cpu_count = 0;
  std::string platform;
  nlohmann::json raw;  // the probe's whole answer

  // Runs the probe. NOT_FOUND if the interpreter does not exist;
  // FAILED_PRECONDITION with its output if the probe fails or the worker
  // package is not found; DEADLINE_EXCEEDED after options.timeout.
  [[nodiscard]] static absl::StatusOr<PythonEnvironment> Probe(const ProbeOptions& options = {});
  // From the probe's JSON (exposed for tests and tools).
  [[nodiscard]] static absl::StatusOr<PythonEnvironment> FromJson(const nlohmann::json& probe);

  // The GIL is really off: a free-threaded build with nothing re-enabling it.
  bool runs_threads_in_parallel() const { return free_threaded_build && !gil_enabled_after_imports; }

  nlohmann::json ToJson() const { return raw; }
};

// What the pool's calls mostly do; it decides between the profiles.
enum class Workload {
  kUnknown,
  kPurePythonCpu,  // Python bytecode: needs the GIL, or free threading
  kNativeNoGil,    // numpy/BLAS, compression, ... that release the GIL
  kIo,             // network, disk, subprocesses: mostly waiting
};

struct SNAKEPIT_EXPORT ProfileRecommendation {
  Profile profile = Profile::kProcess;
  std::vector<std::string> reasons;   // sentences, each naming the fact behind it
  std::vector<std::string> warnings;  // unsafe libraries, GIL re-enabled, ...

  nlohmann::json ToJson() const;
};

// The profile that fits `env` for `workload`, with reasons. Thread-unsafe
// libraries installed (per `matrix`) turn a thread recommendation into a
// warning, not a refusal: being installed is not being used.
SNAKEPIT_EXPORT ProfileRecommendation
RecommendProfile(const PythonEnvironment& env, Workload workload = Workload::kUnknown,
                 const CompatibilityMatrix& matrix = CompatibilityMatrix::Builtin());

}  // namespace snakepit

#endif  // SNAKEPIT_PYTHON_ENVIRONMENT_H_
