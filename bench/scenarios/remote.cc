// Scenario 14: remote workers (docs/remote.md). The same load, one
// process-mode worker with the native transport, through three paths,
// measured side by side in interleaved rounds:
//   local_unix      a local pool's worker on a Unix socket (the default)
//   local_tcp_tls   a local pool's worker on TCP + TLS over loopback
//   remote_veth_tls a remote pool: `python3 -m snakepit_worker serve` in a
//                   network namespace, TCP + TLS over a veth pair, token
// Each with 1 and 2 callers ("echo" {}): calls/s, latency, CPU per call.
// Needs root for the namespace (the process enters a private network
// namespace at start, see main.cc); otherwise the remote point records why
// it was skipped and the local ones still run.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "netns_hosts.h"
#include "scenarios/pools.h"
#include "support/rounds.h"

namespace snakepit::bench {
namespace {

constexpr int kRemotePort = 50051;

// A self-signed certificate for both the loopback and the veth address.
absl::Status MakeCertificate(const std::string& dir) {
  const std::string command = absl::StrCat(
      "/usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 ",
      "-subj /CN=snakepit-bench -addext subjectAltName=DNS:snakepit-bench,IP:127.0.0.1,IP:10.77.1.2 -keyout ", dir,
      "/bench.key -out ", dir, "/bench.pem >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) return absl::InternalError("openssl could not make the certificate");
  std::ofstream(dir + "/token") << "bench-token-0123456789abcdef\n";
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PoolManager>> StartJsonPool(const nlohmann::json& pool) {
  absl::StatusOr<Config> config = Config::FromJson({{"pools", {pool}}});
  if (!config.ok()) return config.status();
  return PoolManager::Start(*config);
}

}  // namespace

nlohmann::json RunRemote(BenchEnv& env) {
  nlohmann::json out = {{"python", env.flags.python}, {"rounds", env.Rounds()}, {"command", "echo {}"}};
  const std::string dir = env.scratch.path();
  if (absl::Status made = MakeCertificate(dir); !made.ok()) return WithError(out, made);
  std::vector<std::pair<std::string, std::unique_ptr<PoolManager>>> paths;

  PoolSpec local = ProcessPool(1);
  local.transport = WorkerTransport::kNative;
  absl::StatusOr<std::unique_ptr<PoolManager>> unix_pool = StartPool(env, local);
  if (!unix_pool.ok()) return WithError(out, unix_pool.status());
  paths.emplace_back("local_unix", *std::move(unix_pool));

  absl::StatusOr<std::unique_ptr<PoolManager>> tcp_pool = StartJsonPool({{"name", kPool},
                                                                         {"pool_size", 1},
                                                                         {"python", env.flags.python},
                                                                         {"worker_transport", "native"},
                                                                         {"tcp",
                                                                          {{"host", "127.0.0.1"},
                                                                           {"tls_cert", dir + "/bench.pem"},
                                                                           {"tls_key", dir + "/bench.key"},
                                                                           {"tls_ca", dir + "/bench.pem"}}}});
  if (!tcp_pool.ok()) return WithError(out, tcp_pool.status());
  paths.emplace_back("local_tcp_tls", *std::move(tcp_pool));

  // The namespace and its server live until the end of the measurements.
  std::unique_ptr<testing::NetnsHost> host;
  if (!testing::PrivateNetworkError().empty()) {
    out["remote_skipped"] = testing::PrivateNetworkError();
    std::printf("  remote_veth_tls skipped: %s\n", testing::PrivateNetworkError().c_str());
  } else {
    absl::StatusOr<std::unique_ptr<testing::NetnsHost>> created = testing::NetnsHost::Create("bench1", 1, 1);
    if (!created.ok()) return WithError(out, created.status());
    host = *std::move(created);
    absl::Status served = host->Serve(0, kRemotePort,
                                      {"--tls-cert", dir + "/bench.pem", "--tls-key", dir + "/bench.key",
                                       "--token-file", dir + "/token", "--transport", "native"},
                                      env.flags.python, env.flags.python_path);
    if (!served.ok()) return WithError(out, served);
    absl::StatusOr<std::unique_ptr<PoolManager>> remote_pool =
        StartJsonPool({{"name", kPool},
                       {"remote",
                        {{"target", absl::StrCat("ipv4:", host->address(0), ":", kRemotePort)},
                         {"tls_ca", dir + "/bench.pem"},
                         {"tls_server_name", "snakepit-bench"},
                         {"token_file", dir + "/token"}}}});
    if (!remote_pool.ok()) return WithError(out, remote_pool.status());
    paths.emplace_back("remote_veth_tls", *std::move(remote_pool));
  }

  std::vector<std::unique_ptr<PoolCaller>> callers_of;
  std::vector<std::pair<std::string, int>> meta;
  std::vector<std::function<LoadResult()>> points;
  const absl::Duration window = env.Time(1.5);
  for (auto& [name, pools] : paths) {
    callers_of.push_back(std::make_unique<PoolCaller>(*pools, "echo", nlohmann::json::object()));
    // A remote worker's pid is on its own host: its CPU is not measured.
    const std::vector<pid_t> pids = name == "remote_veth_tls" ? std::vector<pid_t>{} : WorkerPids(*pools);
    for (int callers : {1, 2}) {
      meta.emplace_back(name, callers);
      points.push_back([&c = *callers_of.back(), pids, callers, window] {
        return RunLoad({.callers = callers, .warmup = absl::Milliseconds(150), .duration = window, .worker_pids = pids},
                       std::ref(c));
      });
    }
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const LoadResult& r = results[i].median;
    std::printf("  %-16s %d caller(s): %7.0f calls/s  p50 %7.0f us  p99 %7.0f us  client CPU %5.0f us/call%s\n",
                meta[i].first.c_str(), meta[i].second, r.calls_per_s, r.latency.p50_us, r.latency.p99_us,
                r.client_cpu_us_per_call, r.errors > 0 ? "  (errors)" : "");
    nlohmann::json point = results[i].ToJson();
    point["path"] = meta[i].first;
    out["points"].push_back(std::move(point));
  }
  return out;
}

}  // namespace snakepit::bench
