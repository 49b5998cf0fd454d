// Config keys read relative to something outside the JSON: python_path
// entries against the config file's folder, and the "metrics" endpoint's
// address (parsing, loopback rule). No Python is started.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "snakepit/config.h"

namespace snakepit {
namespace {

namespace fs = std::filesystem;

// A fresh folder under the test temp dir, removed by the destructor.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = ::testing::TempDir() + "/snakepit_config_paths.XXXXXX";
    path_ = fs::path(::mkdtemp(pattern.data())).lexically_normal();
  }
  ~TempFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  return path.string();
}

constexpr const char* kRelativePaths =
    R"({"pools": [{"name": "a", "python_path": ["adapters", "../shared/lib", "/opt/abs"]}]})";

TEST(ConfigPythonPath, RelativeEntriesOfAFileResolveAgainstItsFolder) {
  TempFolder temp;
  const std::string file = Write(temp.path() / "app" / "pools.json", kRelativePaths);
  absl::StatusOr<Config> config = Config::FromJsonFile(file);
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<std::string>& entries = config->pools[0].python_path;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], (temp.path() / "app" / "adapters").string());
  EXPECT_EQ(entries[1], (temp.path() / "shared" / "lib").string());
  EXPECT_EQ(entries[2], "/opt/abs");
}

TEST(ConfigPythonPath, ARelativeFileNameResolvesFromTheWorkingDirectoryItWasOpenedIn) {
  TempFolder temp;
  Write(temp.path() / "conf" / "pools.json", kRelativePaths);
  const fs::path before = fs::current_path();
  fs::current_path(temp.path());
  absl::StatusOr<Config> config = Config::FromJsonFile("conf/pools.json");
  fs::current_path(before);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->pools[0].python_path[0], (temp.path() / "conf" / "adapters").string());
}

TEST(ConfigPythonPath, AStringKeepsRelativeEntriesForTheWorkingDirectory) {
  absl::StatusOr<Config> config = Config::FromJsonString(kRelativePaths);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->pools[0].python_path[0], "adapters");
  EXPECT_EQ(config->pools[0].python_path[1], "../shared/lib");
}

TEST(ConfigPythonPath, AFolderWithAColonCannotHoldRelativeEntries) {
  TempFolder temp;
  const std::string file = Write(temp.path() / "a:b" / "pools.json", kRelativePaths);
  absl::Status status = Config::FromJsonFile(file).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("pools[0].python_path[0]: relative, and"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("contains ':', the PYTHONPATH separator"), absl::string_view::npos) << status;
}

// --- "metrics" ---------------------------------------------------------

absl::Status Load(const std::string& metrics) {
  return Config::FromJsonString(R"({"pools": [{"name": "a"}], "metrics": )" + metrics + "}").status();
}

void ExpectInvalid(const std::string& metrics, const std::string& message) {
  absl::Status status = Load(metrics);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << metrics << ": " << status;
  EXPECT_EQ(std::string(status.message()), message) << metrics;
}

TEST(ConfigMetrics, LoopbackAddressesLoad) {
  for (const char* listen : {"127.0.0.1:9464", "localhost:0", "[::1]:9464", "127.1.2.3:65535"}) {
    absl::StatusOr<Config> config =
        Config::FromJsonString(std::string(R"({"pools": [{"name": "a"}], "metrics": {"listen": ")") + listen + "\"}}");
    ASSERT_TRUE(config.ok()) << listen << ": " << config.status();
    ASSERT_TRUE(config->metrics.has_value());
    EXPECT_EQ(config->metrics->listen, listen);
    EXPECT_FALSE(config->metrics->allow_plaintext);
  }
}

TEST(ConfigMetrics, TheLegacyFormTakesItAtTheTopLevel) {
  absl::StatusOr<Config> config = Config::FromJsonString(R"({"pool_size": 2, "metrics": {"listen": "[::1]:1"}})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics->listen, "[::1]:1");
  EXPECT_EQ(config->pools[0].pool_size, 2);
}

TEST(ConfigMetrics, ANetworkAddressNeedsAllowPlaintext) {
  ExpectInvalid(R"({"listen": "0.0.0.0:9464"})",
                "metrics.listen: \"0.0.0.0:9464\" is not a loopback address: the endpoint is plain HTTP with no "
                "authentication, so anyone on the network could read it; listen on 127.0.0.1, or set "
                "\"allow_plaintext\": true in metrics if that is meant");
  EXPECT_TRUE(Load(R"({"listen": "0.0.0.0:9464", "allow_plaintext": true})").ok());
}

TEST(ConfigMetrics, BadAddressesAndKeysAreNamed) {
  ExpectInvalid(R"({"listen": "127.0.0.1"})",
                "metrics.listen: \"127.0.0.1\" has no port; expected \"host:port\", e.g. \"127.0.0.1:9464\" or "
                "\"[::1]:9464\"");
  ExpectInvalid(R"({"listen": "127.0.0.1:99999"})",
                "metrics.listen: \"127.0.0.1:99999\" has no port number between 0 and 65535; expected "
                "\"host:port\", e.g. \"127.0.0.1:9464\" or \"[::1]:9464\"");
  ExpectInvalid(R"({"listen": "::1:9464"})",
                "metrics.listen: \"::1:9464\" has an IPv6 address without brackets; expected \"host:port\", e.g. "
                "\"127.0.0.1:9464\" or \"[::1]:9464\"");
  ExpectInvalid(R"({"listen": ":9464"})",
                "metrics.listen: \":9464\" has no host; expected \"host:port\", e.g. \"127.0.0.1:9464\" or "
                "\"[::1]:9464\"");
  ExpectInvalid(R"({"allow_plaintext": true})", "metrics.listen: required: the address the endpoint listens on");
  ExpectInvalid(R"({"listne": "127.0.0.1:1"})", "metrics.listne: unknown key (did you mean \"listen\"?)");
  ExpectInvalid(R"("127.0.0.1:9464")", "metrics: expected an object, got string");
}

TEST(ConfigMetrics, ValidateChecksAConfigBuiltInCpp) {
  Config config;
  config.pools.push_back(PoolConfig{});
  config.metrics = MetricsConfig{.listen = "10.0.0.1:9464"};
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
  config.metrics->allow_plaintext = true;
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
}

}  // namespace
}  // namespace snakepit
