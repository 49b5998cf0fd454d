// Scenario 1, paired: the router's cost measured as differences between
// neighbouring blocks of calls. On this shared machine the cost of a call
// drifts with other people's work by more than the router costs; blocks of
// the three paths taken in turn, and the median of the per-round
// differences, cancel that drift where separate runs cannot.
//   stub_sync      bare stub, synchronous API, to a Python worker started
//                  by hand (the baseline)
//   stub_callback  the same stub through gRPC's callback API
//   library        PoolManager::execute on a process pool of one worker on
//                  the native transport: the bare stub's own transport, so
//                  that the difference is the router's cost alone
//   library_default the same on the default transport (shm for a local
//                  worker): what a user gets, for comparison only
// Every path calls the same command ("echo", {} args) on the same kind of
// worker, one call at a time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "scenarios/pools.h"
#include "support/bare_stub.h"
#include "support/cpu_clock.h"
#include "support/direct_worker.h"
#include "support/latency.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Block {
  double p50_us = 0;
  double client_cpu_us = 0;  // per call
  double worker_cpu_us = 0;  // per call
};

absl::StatusOr<Block> RunBlock(int calls, pid_t worker, const std::function<absl::Status()>& call) {
  LatencyRecorder latency;
  CpuWindow cpu({worker});
  for (int i = 0; i < calls; ++i) {
    const Clock::time_point start = Clock::now();
    if (absl::Status s = call(); !s.ok()) return s;
    latency.Add(Clock::now() - start);
  }
  return Block{latency.Summarize().p50_us, absl::ToDoubleMicroseconds(cpu.self()) / calls,
               absl::ToDoubleMicroseconds(cpu.others()) / calls};
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

nlohmann::json Distribution(const std::vector<double>& v) {
  return {{"median", Quantile(v, 0.5)}, {"q25", Quantile(v, 0.25)}, {"q75", Quantile(v, 0.75)}};
}

absl::Status StubCall(BareStub& stub, bool callback) {
  const snakepit::v1::ExecuteRequest request = stub.Request("echo", "{}");
  snakepit::v1::ExecuteResponse response;
  const grpc::Status status = callback ? stub.ExecuteCallback(request, &response) : stub.Execute(request, &response);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  if (!response.has_result()) return absl::InternalError(response.error().message());
  return absl::OkStatus();
}

}  // namespace

nlohmann::json RunRouterOverhead(BenchEnv& env) {
  const int rounds = env.flags.quick ? 10 : 100;
  const int calls = 150;  // per block
  nlohmann::json out = {{"rounds", rounds}, {"calls_per_block", calls}, {"command", "echo {}"}};
  PoolSpec native_spec = ProcessPool(1);
  native_spec.transport = WorkerTransport::kNative;
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, native_spec);
  if (!pools.ok()) return WithError(out, pools.status());
  absl::StatusOr<std::unique_ptr<PoolManager>> default_pools = StartPool(env, ProcessPool(1));
  if (!default_pools.ok()) return WithError(out, default_pools.status());
  const absl::StatusOr<PoolStats> default_stats = (*default_pools)->stats(kPool);
  out["transports"] = {{"library", "native"},
                       {"library_default", default_stats.ok() ? default_stats->transport : "unknown"},
                       {"stub_sync", "native"},
                       {"stub_callback", "native"}};
  absl::StatusOr<std::unique_ptr<DirectWorker>> worker = DirectWorker::Start(
      {.python = env.flags.python, .python_path = env.flags.python_path, .socket = env.scratch.File("paired.sock")});
  if (!worker.ok()) return WithError(out, worker.status());
  BareStub stub((*worker)->target());
  if (!stub.WaitConnected(absl::Seconds(10))) return WithError(out, absl::UnavailableError("no connection"));
  const pid_t pool_worker = WorkerPids(**pools).front();
  const pid_t default_worker = WorkerPids(**default_pools).front();
  const pid_t direct_worker = (*worker)->pid();
  PoolManager& library = **pools;
  PoolManager& library_default = **default_pools;
  const nlohmann::json no_args = nlohmann::json::object();

  struct Path {
    const char* name;
    pid_t worker;
    std::function<absl::Status()> call;
    std::vector<Block> blocks;
  };
  std::vector<Path> paths = {
      {"stub_sync", direct_worker, [&] { return StubCall(stub, false); }, {}},
      {"stub_callback", direct_worker, [&] { return StubCall(stub, true); }, {}},
      {"library", pool_worker, [&] { return library.execute(kPool, "echo", no_args).status(); }, {}},
      {"library_default",
       default_worker,
       [&] { return library_default.execute(kPool, "echo", no_args).status(); },
       {}}};
  for (Path& p : paths) {  // warm: connections, caches, the interpreter's
    if (absl::StatusOr<Block> b = RunBlock(calls, p.worker, p.call); !b.ok()) return WithError(out, b.status());
  }
  for (int round = 0; round < rounds; ++round) {
    // The order turns each round, so that no path always follows another.
    for (std::size_t k = 0; k < paths.size(); ++k) {
      Path& p = paths[(k + static_cast<std::size_t>(round)) % paths.size()];
      absl::StatusOr<Block> b = RunBlock(calls, p.worker, p.call);
      if (!b.ok()) return WithError(out, b.status());
      p.blocks.push_back(*b);
    }
  }
  for (const Path& p : paths) {
    std::vector<double> p50, client, worker_cpu;
    for (const Block& b : p.blocks) {
      p50.push_back(b.p50_us);
      client.push_back(b.client_cpu_us);
      worker_cpu.push_back(b.worker_cpu_us);
    }
    out["paths"][p.name] = {{"p50_us", Distribution(p50)},
                            {"client_cpu_us", Distribution(client)},
                            {"worker_cpu_us", Distribution(worker_cpu)}};
  }
  // Differences within each round, against the bare synchronous stub.
  for (std::size_t i = 1; i < paths.size(); ++i) {
    std::vector<double> latency, cpu;
    for (int r = 0; r < rounds; ++r) {
      latency.push_back(paths[i].blocks[r].p50_us - paths[0].blocks[r].p50_us);
      cpu.push_back(paths[i].blocks[r].client_cpu_us - paths[0].blocks[r].client_cpu_us);
    }
    out["minus_stub_sync"][paths[i].name] = {{"p50_us", Distribution(latency)}, {"client_cpu_us", Distribution(cpu)}};
    std::printf("  %-15s - stub_sync: p50 %+6.1f us (IQR %+.1f..%+.1f), client CPU %+6.1f us/call (IQR %+.1f..%+.1f)\n",
                paths[i].name, Quantile(latency, 0.5), Quantile(latency, 0.25), Quantile(latency, 0.75),
                Quantile(cpu, 0.5), Quantile(cpu, 0.25), Quantile(cpu, 0.75));
  }
  std::printf("  stub_sync: p50 %.0f us, client CPU %.1f us/call, worker CPU %.1f us/call\n",
              out["paths"]["stub_sync"]["p50_us"]["median"].get<double>(),
              out["paths"]["stub_sync"]["client_cpu_us"]["median"].get<double>(),
              out["paths"]["stub_sync"]["worker_cpu_us"]["median"].get<double>());
  return out;
}

}  // namespace snakepit::bench
