// Helpers for the access-control tests (tcp_test.cc, tls_test.cc): a
// worker whose token the test knows, a gRPC client in a process of its
// own, and certificates made at test time. Nothing here fakes a worker.
#ifndef SNAKEPIT_TESTS_CPP_ACCESS_SUPPORT_H_
#define SNAKEPIT_TESTS_CPP_ACCESS_SUPPORT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"
#include "worker/worker.h"

namespace snakepit::testing {

// Worker 0 of a pool, started through the internal layer exactly as a
// PoolManager starts it (same spec, environment and transport), except
// that the test learns the token the worker was given.
class TokenWorker {
 public:
  // Starts it (process profile) with a private socket directory; null,
  // after ADD_FAILURE, if it did not start.
  static std::unique_ptr<TokenWorker> Start(const PoolConfig& pool);
  ~TokenWorker();
  TokenWorker(const TokenWorker&) = delete;
  TokenWorker& operator=(const TokenWorker&) = delete;

  const std::string& token() const { return *token_; }
  // Where it listens: "unix:/path" or "host:port".
  std::string address() const { return worker_->metadata().address; }
  int pid() const { return worker_->metadata().pid; }

  // Runs `command` through the host's own client (which sends the token);
  // waits at most 10 s.
  absl::StatusOr<nlohmann::json> Execute(const std::string& command,
                                         const nlohmann::json& args = nlohmann::json::object());
  // The worker's Stats report through the host's own client.
  absl::StatusOr<nlohmann::json> Stats();

 private:
  TokenWorker() = default;
  std::string socket_dir_;
  std::shared_ptr<std::string> token_ = std::make_shared<std::string>();
  std::unique_ptr<internal::Worker> worker_;
};

// Runs tests/cpp/data/grpc_probe.py with /usr/bin/python3, in a process of
// its own, against `address`: it sends `token` as snakepit-token metadata
// (none when nullopt), over TLS verified against `tls_ca` when that is not
// empty, and calls Health, Stats and Execute("ping"). Returns its JSON
// line ({"Health": "OK", "Execute": "UNAUTHENTICATED", ...}); null after
// ADD_FAILURE if it printed none.
nlohmann::json Probe(const std::string& address, const std::optional<std::string>& token,
                     const std::string& tls_ca = "", const std::string& server_name = "");

// Self-signed certificates made with /usr/bin/openssl in a private
// temporary directory, removed with it. Nothing is committed and nothing
// expires between runs.
class TestCertificates {
 public:
  TestCertificates();
  ~TestCertificates();
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  // Makes cert(name) and key(name): an EC P-256 certificate with CN=<name>
  // and subjectAltName `san` (e.g. "IP:127.0.0.1"). False, after
  // ADD_FAILURE, if openssl failed.
  bool Make(const std::string& name, const std::string& san);
  std::string cert(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The NUL-separated contents of /proc/<pid>/<file> (cmdline, environ).
std::string ProcFile(int pid, const std::string& file);

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_ACCESS_SUPPORT_H_
