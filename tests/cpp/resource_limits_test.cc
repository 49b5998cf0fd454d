// Per-pool resource limits (rlimit_as_mb, rlimit_nofile), set by each
// worker on itself before it loads anything.
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

TEST(ResourceLimits, WorkersRunUnderTheConfiguredLimits) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter(
      {{"name", "p"}, {"pool_size", 1}, {"rlimit_as_mb", 4096}, {"rlimit_nofile", 256}})}));
  absl::StatusOr<nlohmann::json> limits = pools->execute("p", "rlimits");
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ((*limits)["as"], nlohmann::json::array({std::int64_t{4096} << 20, std::int64_t{4096} << 20}));
  EXPECT_EQ((*limits)["nofile"], nlohmann::json::array({256, 256}));
}

TEST(ResourceLimits, AllocatingPastTheAddressSpaceLimitIsAMemoryErrorAndTheWorkerLivesOn) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}, {"rlimit_as_mb", 2048}})}));
  const int pid = testing::WorkerPids(*pools, "p").at(0);
  absl::StatusOr<nlohmann::json> r = pools->execute("p", "allocate", {{"mb", 3000}});
  ASSERT_FALSE(r.ok());
  const std::optional<PythonError> error = GetPythonError(r.status());
  ASSERT_TRUE(error.has_value()) << r.status();
  EXPECT_EQ(error->type, "MemoryError");
  EXPECT_TRUE(pools->execute("p", "ping").ok());
  EXPECT_EQ(testing::WorkerPids(*pools, "p").at(0), pid) << "the worker must survive";
}

TEST(ResourceLimits, BadValuesAreRefusedNamingTheKey) {
  absl::StatusOr<Config> config = Config::FromJson({{"pools", {{{"name", "p"}, {"rlimit_nofile", 8}}}}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find("pools[0].rlimit_nofile"), std::string::npos) << config.status();
  config = Config::FromJson({{"pools", {{{"name", "p"}, {"rlimit_as_mb", -1}}}}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("pools[0].rlimit_as_mb"), std::string::npos) << config.status();
}

}  // namespace
}  // namespace snakepit
