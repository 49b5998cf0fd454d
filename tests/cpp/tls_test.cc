// TLS for TCP pools: the pool works over TLS, a plaintext client cannot
// talk to its workers, the host verifies the workers' certificate, and a
// bad TLS setup fails the start with an error naming the pool and the key.
// Certificates are made at test time with /usr/bin/openssl.
#include <string>

#include "access_support.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A pool "secure" of one worker serving TLS with `name`'s certificate.
nlohmann::json TlsPool(const testing::TestCertificates& certs, const std::string& name,
                       nlohmann::json extra_tcp = nlohmann::json::object()) {
  nlohmann::json tcp = {{"tls_cert", certs.cert(name)}, {"tls_key", certs.key(name)}, {"tls_ca", certs.cert(name)}};
  tcp.update(extra_tcp);
  return {{"name", "secure"}, {"pool_size", 1}, {"tcp", tcp}};
}

// The status of starting a PoolManager with `pool`.
absl::Status StartStatus(const nlohmann::json& pool) {
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(testing::MakeConfig({pool}));
  return pools.status();
}

TEST(Tls, PoolWorksOverTlsAndAPlaintextClientCannotTalkToItsWorkers) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.Make("worker", "IP:127.0.0.1"));
  nlohmann::json pool = TlsPool(certs, "worker");
  pool["pool_size"] = 2;
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}));
  ASSERT_NE(pools, nullptr);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<nlohmann::json> r = pools->execute("secure", "echo", {{"i", i}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)["i"], i) << *r;
  }

  auto worker = testing::TokenWorker::Start(testing::MakeConfig({TlsPool(certs, "worker")}).pools.at(0));
  ASSERT_NE(worker, nullptr);
  // Plaintext fails even with the right token: the worker speaks only TLS.
  const nlohmann::json plaintext = testing::Probe(worker->address(), worker->token());
  for (const char* rpc : {"Health", "Stats", "Execute"}) {
    EXPECT_EQ(plaintext.value(rpc, ""), "UNAVAILABLE") << plaintext.dump();
  }
  const nlohmann::json tls = testing::Probe(worker->address(), worker->token(), certs.cert("worker"));
  for (const char* rpc : {"Health", "Stats", "Execute"}) EXPECT_EQ(tls.value(rpc, ""), "OK") << tls.dump();
  // TLS does not replace the token.
  const nlohmann::json no_token = testing::Probe(worker->address(), std::nullopt, certs.cert("worker"));
  EXPECT_EQ(no_token.value("Execute", ""), "UNAUTHENTICATED") << no_token.dump();
}

TEST(Tls, TheHostVerifiesTheWorkersCertificate) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.Make("named", "DNS:snakepit-worker"));
  ASSERT_TRUE(certs.Make("stranger", "IP:127.0.0.1"));
  {
    // A certificate that does not name the host is accepted under the name
    // it does carry.
    auto pools =
        testing::StartOrDie(testing::MakeConfig({TlsPool(certs, "named", {{"tls_server_name", "snakepit-worker"}})}));
    ASSERT_NE(pools, nullptr);
    EXPECT_TRUE(pools->execute("secure", "ping").ok());
  }
  nlohmann::json wrong_name = TlsPool(certs, "named");
  wrong_name["startup_timeout"] = 3;
  absl::Status status = StartStatus(wrong_name);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("pool 'secure'")) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("over TLS")) << status;

  nlohmann::json wrong_ca = TlsPool(certs, "stranger", {{"tls_ca", certs.cert("named")}});
  wrong_ca["startup_timeout"] = 3;
  status = StartStatus(wrong_ca);
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("over TLS")) << status;
}

TEST(Tls, BadFilesFailTheStartNamingThePoolAndTheKey) {
  testing::TestCertificates certs;
  ASSERT_TRUE(certs.Make("worker", "IP:127.0.0.1"));
  ASSERT_TRUE(certs.Make("other", "IP:127.0.0.1"));
  const std::string missing = certs.dir() + "/missing.pem";

  absl::Status status = StartStatus(TlsPool(certs, "worker", {{"tls_key", missing}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(std::string(status.message()),
            "pool 'secure': tcp.tls_key: cannot read \"" + missing + "\": No such file or directory");

  status = StartStatus(TlsPool(certs, "worker", {{"tls_cert", missing}}));
  EXPECT_THAT(std::string(status.message()), StartsWith("pool 'secure': tcp.tls_cert: cannot read")) << status;

  status = StartStatus(TlsPool(certs, "worker", {{"tls_ca", certs.key("worker")}}));
  EXPECT_EQ(std::string(status.message()), "pool 'secure': tcp.tls_ca: cannot read \"" + certs.key("worker") +
                                               "\": no PEM certificate in it (-----BEGIN CERTIFICATE-----)");

  // A key that does not belong to the certificate: the worker refuses to
  // serve, and says why.
  status = StartStatus(TlsPool(certs, "worker", {{"tls_key", certs.key("other")}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("pool 'secure'")) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("--tls-cert and --tls-key")) << status;
}

TEST(Tls, KeyWithoutCertificateIsAConfigErrorNamingTheKey) {
  Config config;
  PoolConfig& pool = config.pools.emplace_back();
  pool.name = "secure";
  pool.tcp = TcpConfig{};
  pool.tcp->tls_key = "/etc/snakepit/worker.key";
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(config);
  EXPECT_EQ(pools.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(pools.status().message()),
            "pools[0].tcp.tls_cert: required with tls_key: a worker serves TLS with a certificate and its private "
            "key");
}

}  // namespace
}  // namespace snakepit
