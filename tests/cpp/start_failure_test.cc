// Pools that cannot start fail PoolManager::Start with a readable error that
// names the pool, the interpreter and the Python error, and leave nothing
// running behind.
#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;

// Python processes that are children of this test process.
int ChildPythonProcesses() {
  int count = 0;
  DIR* proc = ::opendir("/proc");
  const std::string self = std::to_string(::getpid());
  while (dirent* entry = ::readdir(proc)) {
    std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
    std::string line;
    if (!stat || !std::getline(stat, line)) continue;
    const size_t paren = line.rfind(')');
    std::istringstream rest(line.substr(paren + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid == self && state != "Z") ++count;
  }
  ::closedir(proc);
  return count;
}

absl::Status StartStatus(nlohmann::json pool) {
  pool["name"] = "broken";
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(testing::MakeConfig({pool}));
  return pools.status();
}

TEST(StartFailure, AdapterThatDoesNotExist) {
  absl::Status s = StartStatus({{"adapter", "no_such_module:Adapter"}, {"pool_size", 2}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("pool 'broken'"));
  EXPECT_THAT(s.message(), HasSubstr("no_such_module"));
  EXPECT_THAT(s.message(), HasSubstr("ModuleNotFoundError"));
  EXPECT_THAT(s.message(), HasSubstr("/usr/bin/python3"));
  EXPECT_EQ(ChildPythonProcesses(), 0);
}

TEST(StartFailure, AdapterThatRaisesAtImport) {
  absl::Status s = StartStatus({{"adapter", "import_boom:Adapter"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("boom at import"));
  EXPECT_THAT(s.message(), HasSubstr("Traceback"));
}

TEST(StartFailure, SetupThatRaisesFailsTheStartWithThePythonError) {
  absl::Status s = StartStatus({{"adapter", "bad_setup:BadSetupAdapter"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("RuntimeError"));
  EXPECT_THAT(s.message(), HasSubstr("model file missing"));
}

TEST(StartFailure, MissingInterpreterIsNotFound) {
  absl::Status s = StartStatus({{"python", "/nonexistent/bin/python3"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/bin/python3"));
}

TEST(StartFailure, InterpreterWithoutGrpcSaysWhichInterpreter) {
  const std::string python = std::string(SNAKEPIT_TEST_DATA) + "/python_without_grpc.sh";
  absl::Status s = StartStatus({{"python", python}, {"worker_transport", "grpcio"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("grpc"));
  EXPECT_THAT(s.message(), HasSubstr(python));
}

TEST(StartFailure, NativeTransportThatDoesNotImportSaysWhichInterpreterAndWhy) {
  const std::string python = std::string(SNAKEPIT_TEST_DATA) + "/python_without_native.sh";
  absl::Status s = StartStatus({{"python", python}, {"worker_transport", "native"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("native transport"));
  EXPECT_THAT(s.message(), HasSubstr("snakepit_worker._native"));
  EXPECT_THAT(s.message(), HasSubstr("/usr/bin/python3"));
}

TEST(StartFailure, ThreadUnsafeAdapterIsRefusedInThreadMode) {
  absl::Status s = StartStatus({{"profile", "thread"}, {"adapter", "unsafe:UnsafeAdapter"}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("not thread-safe"));
  EXPECT_THAT(s.message(), HasSubstr("UnsafeAdapter"));
}

TEST(StartFailure, FallbackToProcessStartsTheUnsafeAdapterAsProcesses) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "fb"},
                                                         {"profile", "thread"},
                                                         {"pool_size", 2},
                                                         {"adapter", "unsafe:UnsafeAdapter"},
                                                         {"fallback_to_process", true}}}));
  ASSERT_NE(pools, nullptr);
  const PoolStats stats = *pools->stats("fb");
  EXPECT_EQ(stats.profile, Profile::kProcess);
  EXPECT_THAT(stats.fallback_reason, HasSubstr("not thread-safe"));
  EXPECT_EQ(stats.workers, 2);
  EXPECT_EQ(stats.capacity, 2);
  EXPECT_TRUE(pools->execute("fb", "ping").ok());
}

TEST(StartFailure, OneBrokenPoolStopsTheOthers) {
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(testing::MakeConfig({
      {{"name", "good"}, {"pool_size", 2}},
      {{"name", "bad"}, {"adapter", "bad_setup:BadSetupAdapter"}},
  }));
  ASSERT_FALSE(pools.ok());
  EXPECT_THAT(pools.status().message(), HasSubstr("pool 'bad'"));
  EXPECT_EQ(ChildPythonProcesses(), 0);
}

TEST(StartFailure, StartupTimeoutIsDeadlineExceeded) {
  absl::Status s = StartStatus({{"adapter", "slow_setup:SlowSetupAdapter"}, {"startup_timeout", 0.5}});
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_EQ(ChildPythonProcesses(), 0);
}

}  // namespace
}  // namespace snakepit
