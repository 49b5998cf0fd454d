// Config rules that keep a careless config from exposing workers: a TCP
// pool on a non-loopback address needs TLS or an explicit opt-out.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snakepit/snakepit.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;

// The error of a document with one pool {"name": "p", "tcp": <tcp>}; "OK"
// if it loads.
std::string TcpError(const std::string& tcp) {
  absl::StatusOr<Config> config = Config::FromJsonString(R"({"pools": [{"name": "p", "tcp": )" + tcp + "}]}");
  if (config.ok()) return "OK";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
  return std::string(config.status().message());
}

TEST(TcpPlaintext, LoopbackHostsNeedNoTls) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(TcpError(std::string(R"({"host": ")") + host + "\"}"), "OK") << host;
  }
  EXPECT_EQ(TcpError("{}"), "OK");  // the default host is 127.0.0.1
}

TEST(TcpPlaintext, NonLoopbackHostWithoutTlsIsRefusedNamingTheKey) {
  for (const char* host : {"0.0.0.0", "::", "10.0.0.5", "worker.example.com", "128.0.0.1", "fe80::1%eth0"}) {
    const std::string error = TcpError(std::string(R"({"host": ")") + host + "\"}");
    EXPECT_THAT(error, HasSubstr(std::string("pools[0].tcp.host: \"") + host + "\" is not a loopback address")) << host;
    EXPECT_THAT(error, HasSubstr("\"allow_plaintext\": true in pools[0].tcp")) << host;
  }
}

TEST(TcpPlaintext, AllowPlaintextOptsOut) {
  EXPECT_EQ(TcpError(R"({"host": "0.0.0.0", "allow_plaintext": true})"), "OK");
  EXPECT_THAT(TcpError(R"({"host": "0.0.0.0", "allow_plaintext": false})"), HasSubstr("is not a loopback address"));
  EXPECT_EQ(TcpError(R"({"allow_plaintext": "yes"})"), "pools[0].tcp.allow_plaintext: expected a boolean, got string");
  EXPECT_EQ(TcpError(R"({"allow_plaintex": true})"),
            "pools[0].tcp.allow_plaintex: unknown key (did you mean \"allow_plaintext\"?)");
}

TEST(TcpPlaintext, TlsIsEnoughOffLoopback) {
  EXPECT_EQ(TcpError(R"({"host": "10.0.0.5", "tls_cert": "/c.pem", "tls_key": "/k.pem", "tls_ca": "/ca.pem"})"), "OK");
}

TEST(TcpPlaintext, ValidateRefusesTheSameInCpp) {
  Config config;
  PoolConfig pool;
  pool.name = "p";
  pool.tcp = TcpConfig{};
  pool.tcp->host = "0.0.0.0";
  config.pools.push_back(pool);
  absl::Status status = config.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("pools[0].tcp.host"));
  config.pools[0].tcp->allow_plaintext = true;
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
}

}  // namespace
}  // namespace snakepit
