// RecommendProfile: which worker profile fits an interpreter and a workload.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "snakepit/python_environment.h"

namespace snakepit {

nlohmann::json ProfileRecommendation::ToJson() const {
  return {{"profile", ProfileName(profile)}, {"reasons", reasons}, {"warnings", warnings}};
}

ProfileRecommendation RecommendProfile(const PythonEnvironment& env, Workload workload,
                                       const CompatibilityMatrix& matrix) {
  ProfileRecommendation r;
  const std::string python =
      absl::StrCat("Python ", env.version, env.free_threaded_build ? " (free-threaded build)" : "");
  const bool parallel = env.runs_threads_in_parallel();
  if (env.free_threaded_build && env.gil_enabled_after_imports) {
    r.warnings.push_back(
        absl::StrCat(python, " is free-threaded but the GIL is on",
                     env.gil_reenabled_by.empty()
                         ? " (PYTHON_GIL=1 or an extension module)"
                         : absl::StrCat(": importing ", absl::StrJoin(env.gil_reenabled_by, ", "), " re-enabled it"),
                     "; threads will not run Python in parallel"));
  }
  switch (workload) {
    case Workload::kPurePythonCpu:
      if (parallel) {
        r.profile = Profile::kThread;
        r.reasons.push_back(absl::StrCat(python,
                                         " runs with the GIL disabled: threads run Python bytecode in "
                                         "parallel, and one process per few cores saves memory"));
      } else {
        r.profile = Profile::kProcess;
        r.reasons.push_back(absl::StrCat(python,
                                         " has the GIL enabled: pure-Python CPU work in threads of one "
                                         "process runs one at a time, so only processes use more cores"));
      }
      break;
    case Workload::kNativeNoGil:
      r.profile = Profile::kThread;
      r.reasons.push_back(
          "native code that releases the GIL (numpy/BLAS, compression) runs in parallel in threads, "
          "and one process shares loaded models and libraries between them");
      break;
    case Workload::kIo:
      r.profile = Profile::kThread;
      r.reasons.push_back(
          "I/O-bound calls mostly wait, with the GIL released; a few threaded processes hold many "
          "concurrent calls for the memory of one process each");
      break;
    case Workload::kUnknown:
      r.profile = parallel ? Profile::kThread : Profile::kProcess;
      r.reasons.push_back(
          parallel ? absl::StrCat(python,
                                  " runs with the GIL disabled: the thread profile runs calls in parallel "
                                  "in fewer processes")
                   : absl::StrCat(python,
                                  " has the GIL enabled: the process profile is the safe default; use the "
                                  "thread profile for I/O-bound calls or native code that releases the GIL"));
      break;
  }
  if (env.grpc_version.empty()) {
    r.warnings.push_back(absl::StrCat("grpc does not import in ", python,
                                      env.grpc_error.empty() ? "" : absl::StrCat(" (", env.grpc_error, ")"),
                                      ": the grpcio worker transport cannot run on it"));
  }
  if (r.profile == Profile::kThread) {
    for (const CompatibilityEntry& e : matrix.ReportInstalled(env.packages)) {
      if (e.thread_safe == ThreadSafety::kUnsafe) {
        r.warnings.push_back(absl::StrCat(e.name, " ", e.version, " is installed and not thread-safe: ", e.notes,
                                          " Keep it out of thread pools, or guard its use with the adapter lock."));
      } else if (e.meets_min_version.has_value() && !*e.meets_min_version) {
        r.warnings.push_back(absl::StrCat(e.name, " ", e.version, " is older than ", e.min_version,
                                          ", the first version the matrix lists as thread-safe: ", e.notes));
      }
    }
  }
  return r;
}

}  // namespace snakepit
