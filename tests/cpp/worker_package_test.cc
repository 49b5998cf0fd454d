// Where a program linked in the build tree finds the worker package
// (src/manager/worker_package.h): with no SNAKEPIT_PYTHONPATH, the build
// tree's, through snakepit_build_pythonpath(), which the build-tree
// snakepit::snakepit target compiles into this test and not into the
// library (tests/install/run_install_test.sh checks the installed side).
#include "manager/worker_package.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

// Sets or unsets SNAKEPIT_PYTHONPATH for one test, restoring it after.
class ScopedPythonPath {
 public:
  explicit ScopedPythonPath(const char* value) {
    if (const char* old = std::getenv("SNAKEPIT_PYTHONPATH")) old_ = old;
    if (value == nullptr) {
      ::unsetenv("SNAKEPIT_PYTHONPATH");
    } else {
      ::setenv("SNAKEPIT_PYTHONPATH", value, 1);
    }
  }
  ~ScopedPythonPath() {
    if (old_.empty()) {
      ::unsetenv("SNAKEPIT_PYTHONPATH");
    } else {
      ::setenv("SNAKEPIT_PYTHONPATH", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

TEST(WorkerPackage, BuildTreeProgramFindsTheBuildTreePackage) {
  ScopedPythonPath unset(nullptr);
  ASSERT_NE(snakepit_build_pythonpath, nullptr) << "the build-tree target did not hand its source to this test";
  absl::StatusOr<std::string> dir = FindWorkerPackage();
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, SNAKEPIT_EXPECTED_BUILD_PYTHONPATH);
}

TEST(WorkerPackage, OverrideIsTheOnlyPlaceTried) {
  ScopedPythonPath bogus("/nonexistent/snakepit-python");
  absl::StatusOr<std::string> dir = FindWorkerPackage();
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(dir.status().message()).find("SNAKEPIT_PYTHONPATH=/nonexistent/snakepit-python"),
            std::string::npos)
      << dir.status();
}

}  // namespace
}  // namespace snakepit::internal
