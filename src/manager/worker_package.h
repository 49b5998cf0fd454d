// Where the Python worker package and the default interpreter are.
#ifndef SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_
#define SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_

#include <string>

#include "absl/status/statusor.h"

// Defined, if at all, by the program that links snakepit: the exported CMake
// package (snakepitConfig.cmake) generates a one-function source into every
// consumer of snakepit::snakepit that returns
// <the prefix find_package found>/share/snakepit/python. Declared weak here,
// so a program linked without it (in-tree targets, a hand-written link line)
// sees a null function and the lookup goes on to the compiled-in paths.
extern "C" const char* snakepit_installed_pythonpath(void) __attribute__((weak));

// Defined, if at all, by a program linked in snakepit's build tree (its
// tests and examples, a FetchContent or add_subdirectory parent): the
// snakepit::snakepit target of the build tree, and only that one, adds a
// generated source returning the build tree's package
// (<build>/python). The library itself has no build-tree path compiled in,
// so an installed library never falls back to a build tree that happens to
// be on the machine.
extern "C" const char* snakepit_build_pythonpath(void) __attribute__((weak));

namespace snakepit::internal {

// The directory to put on PYTHONPATH so that `python -m snakepit_worker`
// works: the first of these that holds snakepit_worker/ with its generated
// stubs (snakepit_worker/_gen):
//   1. $SNAKEPIT_PYTHONPATH, the development override. When set and not
//      empty it is the only place tried: a wrong value is an error, never
//      silently replaced by another package.
//   2. snakepit_installed_pythonpath(), when the program defines it: the
//      package of the installed tree that find_package(snakepit) found, at
//      whatever prefix it was installed to or moved to (the installed
//      `snakepit` CLI defines it too: <its bin>/../share/snakepit/python).
//   3. snakepit_build_pythonpath(), when the program defines it: the build
//      tree's package, for programs linked in the build tree.
//   4. <CMAKE_INSTALL_PREFIX>/share/snakepit/python as the library was
//      configured (the install location it was built for).
// FAILED_PRECONDITION, listing the places tried, if none has the package.
// Thread-safe; reads the environment and the file system on every call.
absl::StatusOr<std::string> FindWorkerPackage();

// The interpreter of pools that name none: the build's default
// (/usr/bin/python3) if it exists, else "python3" from PATH.
std::string DefaultPython();

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_MANAGER_WORKER_PACKAGE_H_
