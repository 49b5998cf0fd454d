#include "manager/worker_package.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"

namespace snakepit::internal {
namespace {

bool HasPackage(const std::string& dir) {
  return ::access((dir + "/snakepit_worker/__main__.py").c_str(), R_OK) == 0 &&
         ::access((dir + "/snakepit_worker/_gen/snakepit/v1/worker_pb2.py").c_str(), R_OK) == 0;
}

// The places tried after $SNAKEPIT_PYTHONPATH, in order (see the header).
std::vector<std::string> Candidates() {
  std::vector<std::string> dirs;
  if (snakepit_installed_pythonpath != nullptr) {
    if (const char* dir = snakepit_installed_pythonpath(); dir != nullptr && *dir != '\0') dirs.emplace_back(dir);
  }
  if (snakepit_build_pythonpath != nullptr) {
    if (const char* dir = snakepit_build_pythonpath(); dir != nullptr && *dir != '\0') dirs.emplace_back(dir);
  }
  dirs.emplace_back(SNAKEPIT_INSTALLED_PYTHONPATH);
  return dirs;
}

}  // namespace

absl::StatusOr<std::string> FindWorkerPackage() {
  if (const char* env = std::getenv("SNAKEPIT_PYTHONPATH"); env != nullptr && *env != '\0') {
    if (HasPackage(env)) return std::string(env);
    return absl::FailedPreconditionError(std::string("SNAKEPIT_PYTHONPATH=") + env +
                                         " has no snakepit_worker package with generated stubs");
  }
  std::vector<std::string> tried;
  for (std::string& dir : Candidates()) {
    if (HasPackage(dir)) return std::move(dir);
    tried.push_back(std::move(dir));
  }
  return absl::FailedPreconditionError("the snakepit_worker Python package was not found; looked in " +
                                       absl::StrJoin(tried, ", ") + " (set SNAKEPIT_PYTHONPATH to override)");
}

std::string DefaultPython() {
  const std::string configured = SNAKEPIT_DEFAULT_PYTHON;
  if (::access(configured.c_str(), X_OK) == 0) return configured;
  return "python3";
}

}  // namespace snakepit::internal
