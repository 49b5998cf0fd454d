// Remote pools' configuration (issue 19, docs/remote.md): the "remote" key,
// its target syntax, the refusals of keys that need a worker process and
// of a config that would send calls in plaintext, the credentials files,
// and resolution. Unit tier: no Python, no network beyond /etc/hosts.
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "config/remote_target.h"
#include "gtest/gtest.h"
#include "snakepit/config.h"
#include "worker/remote_credentials.h"
#include "worker/remote_resolver.h"

namespace snakepit {
namespace {

using internal::ParseRemoteTarget;

nlohmann::json RemotePool(nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json pool = {{"name", "r"},
                         {"remote",
                          {{"target", "dns:///workers.ns.svc.cluster.local:50051"},
                           {"tls_ca", "/etc/snakepit/tls/ca.crt"},
                           {"token_file", "/etc/snakepit/token/token"}}}};
  pool.update(extra);
  return pool;
}

absl::Status Load(const nlohmann::json& pool) { return Config::FromJson({{"pools", {pool}}}).status(); }

::testing::AssertionResult IsInvalid(const absl::Status& status, std::string_view message) {
  if (!absl::IsInvalidArgument(status)) return ::testing::AssertionFailure() << "not INVALID_ARGUMENT: " << status;
  if (std::string(status.message()).find(message) == std::string::npos) {
    return ::testing::AssertionFailure() << "\"" << status.message() << "\" lacks \"" << message << "\"";
  }
  return ::testing::AssertionSuccess();
}

TEST(RemoteConfigTest, ParsesEveryKey) {
  nlohmann::json pool = RemotePool();
  pool["remote"].update({{"tls_server_name", "workers"},
                         {"tls_client_cert", "/c.pem"},
                         {"tls_client_key", "/c.key"},
                         {"resolve_interval", 2.5},
                         {"eject_backoff_initial", 0.5},
                         {"eject_backoff_max", 10}});
  absl::StatusOr<Config> config = Config::FromJson({{"pools", {pool}}});
  ASSERT_TRUE(config.ok()) << config.status();
  const RemoteConfig& remote = *config->pools[0].remote;
  EXPECT_EQ(remote.target, "dns:///workers.ns.svc.cluster.local:50051");
  EXPECT_EQ(remote.tls_server_name, "workers");
  EXPECT_EQ(remote.tls_client_key, "/c.key");
  EXPECT_EQ(remote.resolve_interval.count(), 2500);
  EXPECT_EQ(remote.eject_backoff_initial.count(), 500);
  EXPECT_EQ(remote.eject_backoff_max.count(), 10'000);
}

TEST(RemoteConfigTest, RefusesPlaintextAndMissingToken) {
  nlohmann::json pool = RemotePool();
  pool["remote"].erase("tls_ca");
  EXPECT_TRUE(IsInvalid(Load(pool), "pools[0].remote.tls_ca: required: a remote pool's calls cross the network"));
  pool = RemotePool();
  pool["remote"].erase("token_file");
  EXPECT_TRUE(IsInvalid(Load(pool), "pools[0].remote.token_file: required"));
  pool = RemotePool();
  pool["remote"]["tls_client_cert"] = "/c.pem";
  EXPECT_TRUE(
      IsInvalid(Load(pool), "pools[0].remote.tls_client_key: tls_client_cert and tls_client_key come together"));
}

TEST(RemoteConfigTest, RefusesKeysThatNeedAWorkerProcess) {
  EXPECT_TRUE(IsInvalid(Load(RemotePool({{"worker_ttl", 60}})),
                        "pools[0].worker_ttl: not available in a remote pool (pools[0].remote is set): this lifecycle "
                        "policy recycles a worker process"));
  EXPECT_TRUE(
      IsInvalid(Load(RemotePool({{"worker_max_requests", 100}})), "pools[0].worker_max_requests: not available"));
  EXPECT_TRUE(
      IsInvalid(Load(RemotePool({{"worker_max_memory_mb", 512}})), "pools[0].worker_max_memory_mb: not available"));
  EXPECT_TRUE(IsInvalid(Load(RemotePool({{"pool_size", 3}})), "scale the Deployment instead"));
  EXPECT_TRUE(IsInvalid(Load(RemotePool({{"python", "/usr/bin/python3"}})), "pools[0].python: not available"));
  EXPECT_TRUE(
      IsInvalid(Load(RemotePool({{"adapter", "m:C"}})), "set it on the worker (python -m snakepit_worker serve"));
  EXPECT_TRUE(IsInvalid(Load(RemotePool({{"tcp", {{"host", "127.0.0.1"}}}})), "pools[0].tcp: not available"));
  // What the pool itself does stays configurable.
  EXPECT_TRUE(Load(RemotePool({{"health_check_interval", 1}, {"max_queue", 10}, {"call_timeout", 3}})).ok());
  // A call that ignores its cancel ejects its endpoint instead of killing
  // a process (docs/remote.md).
  EXPECT_TRUE(Load(RemotePool({{"call_kill_timeout", 5}})).ok());
}

TEST(RemoteConfigTest, RefusesBadValues) {
  nlohmann::json pool = RemotePool();
  pool["remote"]["target"] = "unix:/tmp/w.sock";
  EXPECT_TRUE(IsInvalid(Load(pool),
                        "pools[0].remote.target: \"unix:/tmp/w.sock\": a remote pool reaches its workers over TCP"));
  pool["remote"]["target"] = "workers";
  EXPECT_TRUE(IsInvalid(Load(pool), "the port is required"));
  pool = RemotePool();
  pool["remote"]["eject_backoff_max"] = 0.1;
  EXPECT_TRUE(IsInvalid(Load(pool), "pools[0].remote.eject_backoff_max: must be >= eject_backoff_initial"));
  pool = RemotePool();
  pool["remote"]["resolve_interval"] = 0;
  EXPECT_TRUE(IsInvalid(Load(pool), "pools[0].remote.resolve_interval"));
  pool = RemotePool();
  pool["remote"]["targets"] = "x";
  EXPECT_TRUE(IsInvalid(Load(pool), "pools[0].remote.targets: unknown key"));
  EXPECT_TRUE(IsInvalid(Load({{"remote", "dns:///x:1"}}), "remote: expected an object"));
}

TEST(RemoteTargetTest, DnsAndStaticForms) {
  for (const char* text : {"dns:///workers.ns:50051", "dns:workers.ns:50051", "workers.ns:50051"}) {
    absl::StatusOr<internal::RemoteTarget> target = ParseRemoteTarget(text);
    ASSERT_TRUE(target.ok()) << text << ": " << target.status();
    EXPECT_EQ(target->host, "workers.ns");
    EXPECT_EQ(target->port, "50051");
  }
  absl::StatusOr<internal::RemoteTarget> list = ParseRemoteTarget("ipv4:10.0.0.5:1,10.0.0.6:2");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_FALSE(list->is_dns());
  EXPECT_EQ(list->addresses, (std::vector<std::string>{"10.0.0.5:1", "10.0.0.6:2"}));
  absl::StatusOr<internal::RemoteTarget> v6 = ParseRemoteTarget("ipv6:[fd00::5]:50051");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->addresses, (std::vector<std::string>{"[fd00::5]:50051"}));
  EXPECT_FALSE(ParseRemoteTarget("dns://8.8.8.8/workers:1").ok());
  EXPECT_FALSE(ParseRemoteTarget("ipv4:10.0.0.5").ok());
  EXPECT_FALSE(ParseRemoteTarget("workers:99999").ok());
  EXPECT_FALSE(ParseRemoteTarget("").ok());
}

TEST(RemoteResolverTest, StaticListAndLocalhost) {
  absl::StatusOr<std::vector<std::string>> found = internal::ResolveRemoteTarget(
      *ParseRemoteTarget("ipv4:10.0.0.6:1,10.0.0.5:1,10.0.0.6:1"), absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (std::vector<std::string>{"10.0.0.5:1", "10.0.0.6:1"}));  // sorted, no duplicates
  found = internal::ResolveRemoteTarget(*ParseRemoteTarget("dns:///localhost:50051"), absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_FALSE(found->empty());
  for (const std::string& address : *found) {
    EXPECT_TRUE(address == "127.0.0.1:50051" || address == "[::1]:50051") << address;
  }
  found = internal::ResolveRemoteTarget(*ParseRemoteTarget("no-such-host.invalid:1"), absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(absl::IsUnavailable(found.status()) || absl::IsDeadlineExceeded(found.status())) << found.status();
}

TEST(RemoteCredentialsTest, ReadsFilesAndNamesTheKeyOnError) {
  const std::string dir = ::testing::TempDir();
  const std::string ca = dir + "/remote-ca.pem", token = dir + "/remote-token";
  std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::ofstream(token) << "  s3cret\n";
  PoolConfig pool;
  pool.name = "r";
  pool.remote = RemoteConfig();
  pool.remote->target = "dns:///workers.ns:50051";
  pool.remote->tls_ca = ca;
  pool.remote->token_file = token;
  absl::StatusOr<internal::RpcEndpoint> endpoint = internal::RemoteCredentials(pool);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_EQ(endpoint->token, "s3cret");
  EXPECT_EQ(endpoint->tls_server_name, "workers.ns");  // the name, not the resolved IPs
  pool.remote->tls_ca = token;
  EXPECT_TRUE(IsInvalid(internal::RemoteCredentials(pool).status(),
                        "pool 'r': remote.tls_ca: cannot read \"" + token + "\": no PEM block in it"));
  pool.remote->tls_ca = ca;
  pool.remote->token_file = dir + "/missing";
  EXPECT_TRUE(IsInvalid(internal::RemoteCredentials(pool).status(), "pool 'r': remote.token_file: cannot read"));
}

}  // namespace
}  // namespace snakepit
