#include "profile/profile_fit.h"

#include "absl/strings/str_cat.h"
#include "snakepit/compatibility.h"

namespace snakepit::internal {

std::vector<FitWarning> ProfileFitWarnings(const PoolConfig& pool, Profile profile, const WorkerMetadata& md) {
  std::vector<FitWarning> warnings;
  if (profile != Profile::kThread) return warnings;
  if (md.gil_enabled) {
    warnings.push_back(
        {"gil_enabled", "gil_enabled",
         absl::StrCat("thread pool '", pool.name, "' runs on Python ", md.python_version, " with the GIL enabled: the ",
                      pool.effective_threads_per_worker(),
                      " threads of a worker run Python code one at a time (I/O and native code that releases the "
                      "GIL still overlap). For pure-Python CPU work use the process profile or a free-threaded "
                      "interpreter."),
         /*advice=*/true});
  }
  for (const auto& [lib, version] : CompatibilityMatrix::Builtin().UnsafeAmong(md.loaded_libraries)) {
    warnings.push_back({absl::StrCat("unsafe_library:", lib->name), "unsafe_library",
                        absl::StrCat("thread pool '", pool.name, "': worker ", md.label, " loaded ", lib->name, " ",
                                     version, ", which the thread-safety matrix marks unsafe: ", lib->notes)});
  }
  return warnings;
}

}  // namespace snakepit::internal
