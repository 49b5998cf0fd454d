// Where the Python worker package and the default interpreter are.
#ifndef SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_
#define SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_

#include <string>

#include "absl/status/statusor.h"

namespace snakepit::internal {

// The directory to put on PYTHONPATH so that `python -m snakepit_worker`
// works. In order: $SNAKEPIT_PYTHONPATH (development override), the
// installed package (<prefix>/share/snakepit/python), the build tree's.
// FAILED_PRECONDITION, listing the places tried, if none has the package.
absl::StatusOr<std::string> FindWorkerPackage();

// The interpreter of pools that name none: the build's default
// (/usr/bin/python3) if it exists, else "python3" from PATH.
std::string DefaultPython();

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_
