// Remote pools end to end (issue 19, docs/remote.md): worker servers
// (`python3 -m snakepit_worker serve`) in network namespaces that stand for
// hosts, reached over TCP + TLS through veth pairs, found through one name
// in the test's private /etc/hosts (netns_hosts.h). Needs root; skipped with
// the reason otherwise. Everything the test creates lives in its own
// network and mount namespaces and vanishes with the process.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "access_support.h"
#include "gtest/gtest.h"
#include "netns_hosts.h"
#include "snakepit/snakepit.h"
#include "test_support.h"

namespace snakepit::testing {
namespace {

constexpr char kName[] = "snakepit-workers.test";
constexpr int kPort = 50051;
constexpr char kToken[] = "remote-test-token-0123456789";

class RemotePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PrivateNetworkError().empty()) GTEST_SKIP() << "network namespaces unavailable: " << PrivateNetworkError();
    ASSERT_TRUE(certs_.Make("workers", std::string("DNS:") + kName));
    token_file_ = certs_.dir() + "/token";
    WriteFile(token_file_, std::string(kToken) + "\n");
    absl::StatusOr<std::unique_ptr<NetnsHost>> h1 = NetnsHost::Create("h1", 1, 1);
    ASSERT_TRUE(h1.ok()) << h1.status();
    h1_ = *std::move(h1);
    absl::StatusOr<std::unique_ptr<NetnsHost>> h2 = NetnsHost::Create("h2", 2, 2);
    ASSERT_TRUE(h2.ok()) << h2.status();
    h2_ = *std::move(h2);
  }

  static void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  static ::testing::AssertionResult Serve(NetnsHost& host, int i, const std::vector<std::string>& flags) {
    const char* pythonpath = std::getenv("SNAKEPIT_PYTHONPATH");
    absl::Status status = host.Serve(i, kPort, flags, SNAKEPIT_TEST_PYTHON, pythonpath ? pythonpath : "");
    if (status.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << status;
  }

  // The serve flags of a worker with the test's certificate and `token_file`.
  std::vector<std::string> ServeFlags(const std::string& token_file) const {
    return {
        "--tls-cert", certs_.cert("workers"), "--tls-key", certs_.key("workers"), "--token-file", token_file, "--grace",
        "3",          "--drain-notice",       "1"};
  }

  // Three workers in two namespaces: h1 (one address), h2 (two).
  void ServeThree() {
    ASSERT_TRUE(Serve(*h1_, 0, ServeFlags(token_file_)));
    ASSERT_TRUE(Serve(*h2_, 0, ServeFlags(token_file_)));
    ASSERT_TRUE(Serve(*h2_, 1, ServeFlags(token_file_)));
  }

  std::vector<std::pair<std::string, std::string>> Names(const std::vector<std::string>& addresses) const {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const std::string& a : addresses) entries.emplace_back(a, kName);
    return entries;
  }

  // A remote pool on dns:///snakepit-workers.test with quick health checks
  // and re-resolution.
  nlohmann::json RemotePool(const std::string& token_file) const {
    return {{"name", "remote"},
            {"startup_timeout", 5},
            {"call_timeout", 10},
            {"health_check_interval", 0.2},
            {"health_check_timeout", 0.4},
            {"health_check_failures", 1},
            {"remote",
             {{"target", std::string("dns:///") + kName + ":" + std::to_string(kPort)},
              {"tls_ca", certs_.cert("workers")},
              {"token_file", token_file},
              {"resolve_interval", 0.3},
              {"eject_backoff_initial", 0.2},
              {"eject_backoff_max", 2}}}};
  }

  absl::StatusOr<std::unique_ptr<PoolManager>> Start(const nlohmann::json& pool) {
    absl::StatusOr<Config> config = Config::FromJson({{"pools", {pool}}});
    if (!config.ok()) return config.status();
    return PoolManager::Start(*config);
  }

  TestCertificates certs_;
  std::string token_file_;
  std::unique_ptr<NetnsHost> h1_, h2_;
};

// Which worker (by address) served how many calls.
std::map<std::string, std::uint64_t> RequestsByAddress(PoolManager& pools) {
  std::map<std::string, std::uint64_t> by_address;
  absl::StatusOr<PoolStats> stats = pools.stats("remote");
  if (!stats.ok()) return by_address;
  for (const WorkerStats& w : stats->per_worker) by_address[w.address] += w.requests;
  return by_address;
}

TEST_F(RemotePoolTest, CallsSpreadAcrossThreeWorkersFoundThroughOneName) {
  ServeThree();
  SetHosts(Names({h1_->address(0), h2_->address(0), h2_->address(1)}));
  auto pools = Start(RemotePool(token_file_));
  ASSERT_TRUE(pools.ok()) << pools.status();
  EXPECT_EQ((*pools)->stats("remote")->workers, 3);
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 60; ++i) calls.push_back((*pools)->execute_async("remote", "sleep", {{"ms", 20}}));
  for (auto& call : calls) {
    absl::StatusOr<nlohmann::json> result = call.get();
    ASSERT_TRUE(result.ok()) << result.status();
  }
  const auto served = RequestsByAddress(**pools);
  ASSERT_EQ(served.size(), 3u);
  for (const auto& [address, requests] : served) {
    EXPECT_GT(requests, 0u) << address << " got no call";
  }
}

TEST_F(RemotePoolTest, HostRemovedMidLoadFailsOrRetriesPromptlyAndNoCallHangs) {
  ServeThree();
  SetHosts(Names({h1_->address(0), h2_->address(0), h2_->address(1)}));
  auto pools = Start(RemotePool(token_file_));
  ASSERT_TRUE(pools.ok()) << pools.status();
  std::atomic<bool> stop{false};
  std::atomic<bool> unplugged{false};
  std::mutex mu;
  std::vector<std::pair<absl::Status, std::chrono::milliseconds>> outcomes;
  int ok_after_unplug = 0;
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        const auto start = std::chrono::steady_clock::now();
        absl::StatusOr<Reply> reply =
            (*pools)->call("remote", "sleep", {{"ms", 30}}, {.timeout = std::chrono::seconds(8), .idempotent = true});
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        std::lock_guard lock(mu);
        outcomes.emplace_back(reply.status(), took);
        if (reply.ok() && unplugged.load()) ++ok_after_unplug;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Host h2 (two workers) vanishes without a word: its link goes (no FIN,
  // no RST), while the name still resolves to it, as DNS does for minutes
  // after a node dies. Health probes and keepalive find it; readmission
  // attempts fail and back off.
  ASSERT_TRUE(h2_->Unplug().ok());
  unplugged.store(true);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  stop.store(true);
  for (std::thread& t : callers) t.join();

  std::chrono::milliseconds longest{0};
  int failed = 0;
  for (const auto& [status, took] : outcomes) {
    longest = std::max(longest, took);
    if (!status.ok()) {
      ++failed;
      EXPECT_TRUE(absl::IsUnavailable(status)) << status;
    }
  }
  std::printf("remote: %zu calls, %d failed, longest %lld ms\n", outcomes.size(), failed,
              static_cast<long long>(longest.count()));
  // Health probes every 0.2 s with a 0.4 s timeout (and 1 s keepalive)
  // find the silent host within about a second; generous bounds for a busy
  // machine.
  EXPECT_LT(longest, std::chrono::milliseconds(3000));
  EXPECT_GT(ok_after_unplug, 10) << "the remaining worker took over";
  EXPECT_TRUE(WaitFor([&] { return (*pools)->stats("remote")->workers == 1; }, std::chrono::seconds(10)))
      << (*pools)->stats("remote")->workers << " workers";
}

TEST_F(RemotePoolTest, HostAddedIsUsedAfterReResolution) {
  ServeThree();
  SetHosts(Names({h1_->address(0)}));
  auto pools = Start(RemotePool(token_file_));
  ASSERT_TRUE(pools.ok()) << pools.status();
  EXPECT_EQ((*pools)->stats("remote")->workers, 1);
  SetHosts(Names({h1_->address(0), h2_->address(0)}));
  ASSERT_TRUE(WaitFor([&] { return (*pools)->stats("remote")->workers == 2; }, std::chrono::seconds(10)));
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back((*pools)->execute_async("remote", "sleep", {{"ms", 20}}));
  for (auto& call : calls) ASSERT_TRUE(call.get().ok());
  const std::string added = h2_->address(0) + ":" + std::to_string(kPort);
  EXPECT_GT(RequestsByAddress(**pools)[added], 0u) << "the added host got no call";
}

TEST_F(RemotePoolTest, WorkerWithoutTlsIsRefused) {
  ASSERT_TRUE(Serve(*h1_, 0, {"--token-file", token_file_, "--allow-plaintext"}));
  SetHosts(Names({h1_->address(0)}));
  auto pools = Start(RemotePool(token_file_));
  ASSERT_FALSE(pools.ok());
  EXPECT_TRUE(absl::IsUnavailable(pools.status())) << pools.status();
  EXPECT_NE(pools.status().message().find(h1_->address(0)), std::string::npos) << pools.status();
}

TEST_F(RemotePoolTest, WrongTokenIsRefused) {
  ASSERT_TRUE(Serve(*h1_, 0, ServeFlags(token_file_)));
  SetHosts(Names({h1_->address(0)}));
  const std::string wrong = certs_.dir() + "/wrong-token";
  WriteFile(wrong, "not-the-token");
  auto pools = Start(RemotePool(wrong));
  ASSERT_FALSE(pools.ok());
  EXPECT_NE(pools.status().message().find("snakepit-token"), std::string::npos) << pools.status();
}

TEST_F(RemotePoolTest, SigtermDrainsTheWorkerAndTheCallInFlightFinishes) {
  ASSERT_TRUE(Serve(*h1_, 0, ServeFlags(token_file_)));
  ASSERT_TRUE(Serve(*h2_, 0, ServeFlags(token_file_)));
  SetHosts(Names({h1_->address(0), h2_->address(0)}));
  auto pools = Start(RemotePool(token_file_));
  ASSERT_TRUE(pools.ok()) << pools.status();
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 2; ++i) calls.push_back((*pools)->execute_async("remote", "sleep", {{"ms", 800}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  SetHosts(Names({h1_->address(0)}));
  std::thread terminate([&] { EXPECT_TRUE(h2_->TerminateServers(3)) << "h2's worker did not exit 0 after SIGTERM"; });
  for (auto& call : calls) EXPECT_TRUE(call.get().ok());
  terminate.join();
  absl::StatusOr<nlohmann::json> after = (*pools)->execute("remote", "ping", nlohmann::json::object());
  EXPECT_TRUE(after.ok()) << after.status();
}

}  // namespace
}  // namespace snakepit::testing

int main(int argc, char** argv) {
  // Before gtest or anything else starts a thread: unshare applies to the
  // calling thread only.
  const std::string why_not = snakepit::testing::EnterPrivateNetwork();
  ::testing::InitGoogleTest(&argc, argv);
  if (!why_not.empty()) std::printf("remote_pool_test: %s; the tests skip\n", why_not.c_str());
  return RUN_ALL_TESTS();
}
