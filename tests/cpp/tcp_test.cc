// TCP is opt-in per pool, and every worker has its own random token: a TCP
// pool runs calls over loopback; a client in another process that sends no
// token, or a wrong one, is refused with UNAUTHENTICATED before any adapter
// code runs, while the same client with the worker's token gets through;
// the token is in neither the worker's command line nor its environment.
#include <set>
#include <string>

#include "access_support.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"
#include "worker/worker_token.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// The error of a document with one pool {"name": "p", <fields>}; "OK" if
// it loads.
std::string PoolError(const std::string& fields) {
  absl::StatusOr<Config> config = Config::FromJsonString(R"({"pools": [{"name": "p", )" + fields + "}]}");
  if (config.ok()) return "OK";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

TEST(TcpConfig, TcpIsOptInPerPool) {
  absl::StatusOr<Config> config = Config::FromJsonString(R"({"pools": [
      {"name": "unix"},
      {"name": "tcp", "tcp": {}},
      {"name": "tls", "tcp": {"host": "::1", "tls_cert": "/c.pem", "tls_key": "/k.pem", "tls_ca": "/ca.pem",
                              "tls_server_name": "worker.internal"}}]})");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->pools[0].tcp.has_value());
  ASSERT_TRUE(config->pools[1].tcp.has_value());
  EXPECT_EQ(config->pools[1].tcp->host, "127.0.0.1");
  EXPECT_EQ(config->pools[1].tcp->tls_cert, "");
  const TcpConfig& tls = *config->pools[2].tcp;
  EXPECT_EQ(tls.host, "::1");
  EXPECT_EQ(tls.tls_cert, "/c.pem");
  EXPECT_EQ(tls.tls_key, "/k.pem");
  EXPECT_EQ(tls.tls_ca, "/ca.pem");
  EXPECT_EQ(tls.tls_server_name, "worker.internal");
}

TEST(TcpConfig, ErrorsNameTheKeyAndThePool) {
  EXPECT_EQ(PoolError(R"("tcp": true)"), "pools[0].tcp: expected an object, got boolean");
  EXPECT_EQ(PoolError(R"("tcp": {"hots": "x"})"), "pools[0].tcp.hots: unknown key (did you mean \"host\"?)");
  EXPECT_EQ(PoolError(R"("tcp": {"host": 5})"), "pools[0].tcp.host: expected a string, got number");
  EXPECT_EQ(PoolError(R"("tcp": {"host": ""})"), "pools[0].tcp.host: must not be empty");
  EXPECT_EQ(PoolError(R"("tcp": {"host": "[::1]"})"),
            "pools[0].tcp.host: \"[::1]\" contains \"[\"; expected a host name or an IP address (IPv6 without "
            "brackets)");
  EXPECT_EQ(PoolError(R"("tcp": {"tls_key": "/k.pem"})"),
            "pools[0].tcp.tls_cert: required with tls_key: a worker serves TLS with a certificate and its private "
            "key");
  EXPECT_EQ(PoolError(R"("tcp": {"tls_cert": "/c.pem", "tls_ca": "/c.pem"})"),
            "pools[0].tcp.tls_key: required with tls_cert: a worker serves TLS with a certificate and its private "
            "key");
  EXPECT_THAT(PoolError(R"("tcp": {"tls_cert": "/c.pem", "tls_key": "/k.pem"})"),
              StartsWith("pools[0].tcp.tls_ca: required with tls_cert: the CA certificate the host verifies"));
  EXPECT_EQ(PoolError(R"("tcp": {"tls_ca": "/ca.pem"})"), "pools[0].tcp.tls_ca: has no effect without tls_cert");
  EXPECT_EQ(PoolError(R"("tcp": {"tls_server_name": "w"})"),
            "pools[0].tcp.tls_server_name: has no effect without tls_cert");
  EXPECT_EQ(PoolError(R"("env": {"SNAKEPIT_WORKER_TOKEN": "x"})"),
            "pools[0].env.SNAKEPIT_WORKER_TOKEN: is reserved: snakepit sets it to each worker's own random token");
  // The legacy single-pool form names the key without a pools[] prefix.
  absl::StatusOr<Config> legacy = Config::FromJsonString(R"({"tcp": {"tls_key": "/k.pem"}})");
  EXPECT_THAT(std::string(legacy.status().message()), StartsWith("tcp.tls_cert: required with tls_key"));
}

TEST(TcpConfig, ValidateAppliesTheSameRulesToCppConfigs) {
  Config config;
  config.pools.resize(2);
  config.pools[1].name = "second";
  config.pools[1].tcp = TcpConfig{};
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
  config.pools[1].tcp->tls_key = "/k.pem";
  EXPECT_THAT(std::string(config.Validate().message()), StartsWith("pools[1].tcp.tls_cert: required with tls_key"));
  config.pools[1].tcp->tls_key.clear();
  config.pools[1].tcp->host.clear();
  EXPECT_EQ(std::string(config.Validate().message()), "pools[1].tcp.host: must not be empty");
  // PoolManager::Start validates first: nothing starts.
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(config);
  EXPECT_EQ(pools.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Tcp, PoolsRunCallsOverLoopbackBesideAUnixPool) {
  auto pools = testing::StartOrDie(testing::MakeConfig({
      {{"name", "tcp"}, {"pool_size", 2}, {"tcp", nlohmann::json::object()}},
      {{"name", "threads"},
       {"profile", "thread"},
       {"pool_size", 1},
       {"threads_per_worker", 2},
       {"tcp", nlohmann::json::object()}},
      {{"name", "unix"}, {"pool_size", 1}},
  }));
  ASSERT_NE(pools, nullptr);
  for (const std::string pool : {"tcp", "threads", "unix"}) {
    for (int i = 0; i < 5; ++i) {
      absl::StatusOr<nlohmann::json> r = pools->execute(pool, "add", {{"a", i}, {"b", 1}});
      ASSERT_TRUE(r.ok()) << pool << ": " << r.status();
      EXPECT_EQ(*r, i + 1);
    }
  }
  std::set<std::string> addresses;
  const std::string kListenOnAnyPort = std::string("--listen") + '\0' + "127.0.0.1:0" + '\0';
  for (const std::string pool : {"tcp", "threads"}) {
    absl::StatusOr<PoolStats> stats = pools->stats(pool);
    ASSERT_TRUE(stats.ok()) << stats.status();
    for (const WorkerStats& w : stats->per_worker) {
      EXPECT_THAT(w.address, MatchesRegex("127\\.0\\.0\\.1:[0-9]+")) << pool;
      addresses.insert(w.address);
      // The worker was asked for a port of its choosing on the pool's host.
      EXPECT_THAT(testing::ProcFile(w.pid, "cmdline"), HasSubstr(kListenOnAnyPort));
    }
  }
  EXPECT_EQ(addresses.size(), 3u) << "every worker has its own port";
  absl::StatusOr<PoolStats> unix_stats = pools->stats("unix");
  ASSERT_TRUE(unix_stats.ok()) << unix_stats.status();
  EXPECT_THAT(unix_stats->per_worker.at(0).address, StartsWith("unix:/"));
}

class WorkerToken : public ::testing::TestWithParam<std::string> {
 protected:
  // A pool of the transport under test ("unix" or "tcp").
  static PoolConfig Pool() {
    nlohmann::json pool = testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}});
    if (GetParam() == "tcp") pool["tcp"] = nlohmann::json::object();
    return testing::MakeConfig({pool}).pools.at(0);
  }
};

TEST_P(WorkerToken, ClientsWithoutTheWorkersTokenAreRefusedBeforeAnyAdapterCodeRuns) {
  auto worker = testing::TokenWorker::Start(Pool());
  ASSERT_NE(worker, nullptr);
  EXPECT_THAT(worker->token(), MatchesRegex("[0-9a-f]{64}")) << "256 random bits";
  const std::string address = worker->address();
  absl::StatusOr<std::string> other = internal::NewWorkerToken();
  ASSERT_TRUE(other.ok());
  const std::vector<std::optional<std::string>> refused = {std::nullopt, *other, worker->token().substr(0, 63),
                                                           worker->token() + "0", ""};
  for (const std::optional<std::string>& token : refused) {
    const nlohmann::json answer = testing::Probe(address, token);
    for (const char* rpc : {"Health", "Stats", "Execute"}) {
      EXPECT_EQ(answer.value(rpc, ""), "UNAUTHENTICATED")
          << rpc << " with token " << token.value_or("(none)") << ": " << answer.dump();
    }
  }
  // The same client with the right token gets through, and the refused
  // Executes never reached the adapter.
  const nlohmann::json answer = testing::Probe(address, worker->token());
  EXPECT_EQ(answer.value("Health", ""), "OK") << answer.dump();
  EXPECT_EQ(answer.value("Stats", ""), "OK") << answer.dump();
  EXPECT_EQ(answer.value("served", -1), 0) << answer.dump();
  EXPECT_EQ(answer.value("Execute", ""), "OK") << answer.dump();
  EXPECT_EQ(answer.value("outcome", ""), "result") << answer.dump();
  // The host's own client sends the token with every RPC.
  EXPECT_TRUE(worker->Execute("ping").ok());
  absl::StatusOr<nlohmann::json> stats = worker->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ((*stats)["requests_served"], 2);
}

TEST_P(WorkerToken, IsNeitherInTheCommandLineNorInTheEnvironment) {
  auto worker = testing::TokenWorker::Start(Pool());
  ASSERT_NE(worker, nullptr);
  const std::string& token = worker->token();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(testing::ProcFile(worker->pid(), "cmdline").find(token), std::string::npos);
  const std::string environ = testing::ProcFile(worker->pid(), "environ");
  EXPECT_EQ(environ.find(token), std::string::npos);
  // It came in the environment: the variable's name is still in the block
  // the process started with, its value overwritten with NUL bytes.
  const std::string name = std::string(internal::kWorkerTokenEnv) + "=";
  const std::size_t at = environ.find(name);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(environ.substr(at + name.size(), token.size()), std::string(token.size(), '\0'));
  // The adapter cannot see it either.
  absl::StatusOr<nlohmann::json> seen = worker->Execute("getenv", {{"name", internal::kWorkerTokenEnv}});
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_TRUE(seen->is_null()) << *seen;
}

INSTANTIATE_TEST_SUITE_P(Transports, WorkerToken, ::testing::Values("unix", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

TEST(WorkerTokens, EachWorkerHasItsOwn) {
  const PoolConfig pool = testing::MakeConfig({{{"name", "p"}, {"tcp", nlohmann::json::object()}}}).pools.at(0);
  auto first = testing::TokenWorker::Start(pool);
  auto second = testing::TokenWorker::Start(pool);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first->token(), second->token());
  EXPECT_EQ(testing::Probe(second->address(), first->token()).value("Health", ""), "UNAUTHENTICATED");
  EXPECT_EQ(testing::Probe(second->address(), second->token()).value("Health", ""), "OK");
}

}  // namespace
}  // namespace snakepit
