// What each profile sets up inside the worker, as seen from Python itself:
// BLAS/OpenMP thread variables, the live OpenBLAS thread pool, and the
// user's env winning over the profile's.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

const char* const kThreadVars[] = {"OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                                   "VECLIB_MAXIMUM_THREADS"};

// num_threads of every BLAS pool threadpoolctl reports.
std::vector<int> BlasThreads(const nlohmann::json& info) {
  std::vector<int> out;
  for (const auto& pool : info["threadpools"]) {
    if (pool.value("user_api", "") == "blas") out.push_back(pool["num_threads"].get<int>());
  }
  return out;
}

TEST(ProfileEnvironment, ProcessProfilePinsBlasThreadsToOne) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"profile", "process"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> info = pools->execute("p", "threads_info");
  ASSERT_TRUE(info.ok()) << info.status();
  for (const char* var : kThreadVars) EXPECT_EQ((*info)["env"][var], "1") << var;
  EXPECT_EQ((*info)["env"]["GRPC_POLL_STRATEGY"], "poll");
  // With libopenblas0-pthread installed, numpy's BLAS is OpenBLAS and its
  // live pool honours the variable.
  std::vector<int> blas = BlasThreads(*info);
  ASSERT_FALSE(blas.empty()) << "no BLAS thread pool reported (is libopenblas0-pthread installed?): " << info->dump();
  for (int n : blas) EXPECT_EQ(n, 1);
}

TEST(ProfileEnvironment, ThreadProfileGivesBlasItsThreadCount) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 3}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> info = pools->execute("t", "threads_info");
  ASSERT_TRUE(info.ok()) << info.status();
  for (const char* var : kThreadVars) EXPECT_EQ((*info)["env"][var], "3") << var;
  EXPECT_TRUE((*info)["env"]["GRPC_POLL_STRATEGY"].is_null());
}

TEST(ProfileEnvironment, PoolEnvOverridesTheProfile) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"},
                                                        {"profile", "process"},
                                                        {"pool_size", 1},
                                                        {"env", {{"OMP_NUM_THREADS", "2"}, {"MY_FLAG", "on"}}}})}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> info = pools->execute("p", "threads_info");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ((*info)["env"]["OMP_NUM_THREADS"], "2");
  EXPECT_EQ((*info)["env"]["OPENBLAS_NUM_THREADS"], "1");
  absl::StatusOr<nlohmann::json> env = pools->execute("p", "getenv", {{"name", "MY_FLAG"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(*env, "on");
}

TEST(ProfileEnvironment, HostVariablesDoNotLeakIntoWorkers) {
  ::setenv("SNAKEPIT_TEST_SECRET", "do-not-pass", 1);
  auto pools =
      testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}})}));
  ::unsetenv("SNAKEPIT_TEST_SECRET");
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> env = pools->execute("p", "getenv", {{"name", "SNAKEPIT_TEST_SECRET"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_TRUE(env->is_null()) << *env;
}

}  // namespace
}  // namespace snakepit
