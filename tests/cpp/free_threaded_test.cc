// Tests with a real free-threaded CPython 3.13t: the one
// tools/build_free_threaded_python.sh builds, found by
// cmake/SnakepitFreeThreaded.cmake. Every test skips when there is none.
#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snakepit/python_environment.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class FreeThreaded : public ::testing::Test {
 protected:
  void SetUp() override {
    if (python_.empty() || !std::filesystem::exists(python_)) {
      GTEST_SKIP() << "no free-threaded Python 3.13t: build it with tools/build_free_threaded_python.sh "
                      "(or run SNAKEPIT_FREE_THREADED=1 ./scripts/test.sh), then configure again";
    }
  }

  // Empty when CMake found none.
  const std::string python_ = SNAKEPIT_FT_PYTHON;
  // snakepit_needs_gil and snakepit_gil_free, built for it (tests/free_threaded).
  const std::string modules_ = SNAKEPIT_FT_MODULES;
};

TEST_F(FreeThreaded, ProbeReportsAFreeThreadedBuildWithTheGilOff) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.python = python_});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->executable, python_);
  EXPECT_THAT(env->version, StartsWith("3.1"));  // 3.13 or later: free threading began there
  EXPECT_TRUE(env->free_threaded_build);
  EXPECT_FALSE(env->gil_enabled);
  EXPECT_FALSE(env->gil_enabled_after_imports);
  EXPECT_TRUE(env->gil_reenabled_by.empty());
  EXPECT_TRUE(env->runs_threads_in_parallel());
  // Debian's grpcio is built for its GIL interpreter only; its protobuf
  // works here in the pure-Python form.
  EXPECT_TRUE(env->grpc_version.empty());
  EXPECT_THAT(env->grpc_error, HasSubstr("grpc"));
  EXPECT_FALSE(env->protobuf_version.empty());
  EXPECT_EQ(env->protobuf_implementation, "python");
  EXPECT_TRUE(env->packages.contains("protobuf"));
  EXPECT_EQ(RecommendProfile(*env, Workload::kPurePythonCpu).profile, Profile::kThread);
}

TEST_F(FreeThreaded, AModuleThatTurnsTheGilBackOnIsNamedInAWarning) {
  absl::StatusOr<PythonEnvironment> env =
      PythonEnvironment::Probe({.python = python_,
                                .packages = false,
                                .imports = {"snakepit_gil_free", "snakepit_needs_gil"},
                                .python_path = {modules_}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_TRUE(env->raw["import_errors"].empty()) << env->raw["import_errors"];
  EXPECT_FALSE(env->gil_enabled);
  EXPECT_TRUE(env->gil_enabled_after_imports);
  EXPECT_THAT(env->gil_reenabled_by, ElementsAre("snakepit_needs_gil"));
  EXPECT_FALSE(env->runs_threads_in_parallel());

  const ProfileRecommendation r = RecommendProfile(*env, Workload::kPurePythonCpu);
  EXPECT_EQ(r.profile, Profile::kProcess);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("importing snakepit_needs_gil re-enabled it")));
}

TEST_F(FreeThreaded, AModuleDeclaringItRunsWithoutTheGilLeavesItOff) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe(
      {.python = python_, .packages = false, .imports = {"snakepit_gil_free"}, .python_path = {modules_}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_TRUE(env->raw["import_errors"].empty()) << env->raw["import_errors"];
  EXPECT_FALSE(env->gil_enabled_after_imports);
  EXPECT_TRUE(env->gil_reenabled_by.empty());
  EXPECT_TRUE(env->runs_threads_in_parallel());
}

// On the grpcio transport; the native one runs there (the free_threaded.*
// re-runs of the end-to-end suites).
TEST_F(FreeThreaded, AGrpcioPoolNamingItFailsToStartSayingWhichInterpreterLacksGrpc) {
  absl::StatusOr<std::unique_ptr<PoolManager>> pools =
      PoolManager::Start(testing::MakeConfig({{{"name", "ft"},
                                               {"profile", "thread"},
                                               {"pool_size", 1},
                                               {"python", python_},
                                               {"worker_transport", "grpcio"}}}));
  ASSERT_FALSE(pools.ok());
  const std::string message(pools.status().message());
  EXPECT_THAT(message, HasSubstr("pool 'ft'"));
  EXPECT_THAT(message, HasSubstr(python_));
  EXPECT_THAT(message, HasSubstr("No module named 'grpc'"));
  EXPECT_THAT(message, HasSubstr("free-threaded"));
}

}  // namespace
}  // namespace snakepit
