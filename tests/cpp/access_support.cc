#include "access_support.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <sstream>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "manager/worker_package.h"
#include "profile/profiles.h"
#include "test_support.h"
#include "worker/worker_token.h"

namespace snakepit::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

std::string MakeTempDir(const std::string& prefix) {
  std::string templ = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  return buffer.data();
}

// Single quotes for /bin/sh.
std::string ShellQuote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::unique_ptr<TokenWorker> TokenWorker::Start(const PoolConfig& pool) {
  std::unique_ptr<TokenWorker> w(new TokenWorker());
  w->socket_dir_ = MakeTempDir("spt");
  absl::StatusOr<std::string> package = internal::FindWorkerPackage();
  if (!package.ok()) {
    ADD_FAILURE() << package.status();
    return nullptr;
  }
  internal::WorkerSite site;
  site.socket_dir = w->socket_dir_;
  site.worker_package = *package;
  site.default_python = internal::DefaultPython();
  site.new_token = [token = w->token_]() -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> drawn = internal::NewWorkerToken();
    if (drawn.ok()) *token = *drawn;
    return drawn;
  };
  w->worker_ = internal::MakeWorker(Profile::kProcess, pool, site, 0, nullptr);
  if (absl::Status status = w->worker_->Start(absl::Now() + kWait * 2); !status.ok()) {
    ADD_FAILURE() << "worker did not start: " << status;
    return nullptr;
  }
  return w;
}

TokenWorker::~TokenWorker() {
  if (worker_) worker_->Stop(absl::Seconds(2));
  std::error_code ignored;
  std::filesystem::remove_all(socket_dir_, ignored);
}

absl::StatusOr<nlohmann::json> TokenWorker::Execute(const std::string& command, const nlohmann::json& args) {
  auto reply = std::make_shared<std::promise<absl::StatusOr<Reply>>>();
  std::future<absl::StatusOr<Reply>> future = reply->get_future();
  internal::WorkerCall call;
  call.command = command;
  call.args_json = args.dump();
  call.rpc_deadline = absl::Now() + kWait;
  worker_->Execute(std::move(call), [reply](absl::StatusOr<Reply> r) { reply->set_value(std::move(r)); });
  absl::StatusOr<Reply> result = future.get();  // bounded by rpc_deadline
  if (!result.ok()) return result.status();
  return result->result;
}

absl::StatusOr<nlohmann::json> TokenWorker::Stats() {
  auto report = std::make_shared<std::promise<absl::StatusOr<nlohmann::json>>>();
  std::future<absl::StatusOr<nlohmann::json>> future = report->get_future();
  worker_->Diagnostics(absl::Now() + kWait,
                       [report](absl::StatusOr<nlohmann::json> r) { report->set_value(std::move(r)); });
  return future.get();  // bounded by the deadline
}

nlohmann::json Probe(const std::string& address, const std::optional<std::string>& token, const std::string& tls_ca,
                     const std::string& server_name) {
  absl::StatusOr<std::string> package = internal::FindWorkerPackage();
  if (!package.ok()) {
    ADD_FAILURE() << package.status();
    return nullptr;
  }
  std::string command = "env PYTHONPATH=" + ShellQuote(*package);
  if (token) command += " PROBE_TOKEN=" + ShellQuote(*token);
  command += " " SNAKEPIT_TEST_PYTHON " " SNAKEPIT_TEST_DATA "/grpc_probe.py " + ShellQuote(address);
  if (!tls_ca.empty()) command += " --tls-ca " + ShellQuote(tls_ca);
  if (!server_name.empty()) command += " --server-name " + ShellQuote(server_name);
  const auto [status, output] = RunCommand(command);
  // gRPC may log to stderr too; the answer is the last line that is JSON.
  std::istringstream lines(output);
  nlohmann::json answer;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') answer = nlohmann::json::parse(line, nullptr, false);
  }
  if (status != 0 || !answer.is_object()) {
    ADD_FAILURE() << "probe failed (exit " << status << "): " << output;
    return nullptr;
  }
  return answer;
}

TestCertificates::TestCertificates() : dir_(MakeTempDir("spcerts")) {}

TestCertificates::~TestCertificates() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool TestCertificates::Make(const std::string& name, const std::string& san) {
  const auto [status, output] =
      RunCommand("/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj " +
                 ShellQuote("/CN=" + name) + " -addext " + ShellQuote("subjectAltName=" + san) + " -keyout " +
                 ShellQuote(key(name)) + " -out " + ShellQuote(cert(name)));
  if (status != 0) ADD_FAILURE() << "openssl failed: " << output;
  return status == 0;
}

std::string ProcFile(int pid, const std::string& file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace snakepit::testing
