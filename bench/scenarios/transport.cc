// Scenario 10: the worker's transport. One process-mode worker on the
// default interpreter (Debian's 3.11) serving the snakepit.v1 contract
// with the native transport (gRPC C++ inside the Python process) and with
// grpcio, measured side by side in paired rounds:
//   stub_native / stub_grpcio / stub_cpp_echo
//       a bare stub, one caller, sequential no-op calls ("echo" {}), to a
//       worker started by hand and to the C++ echo server (the floor: the
//       same contract with no Python at all); the server's CPU per call
//       comes from its pid's CPU clock
//   library_<transport>
//       a process pool of 1 worker through the library for each worker
//       transport of kLibraryTransports, 1 and 2 callers (the second call
//       waits in the library's queue, so the worker never waits for the
//       next one)
//   payload_*  echo_attachments of 1 MiB and 16 MiB, sent and returned,
//       on the bare stubs
// Each round measures every point back to back, in alternating order
// (first to last, then last to first). Each point's ratio to its grpcio
// counterpart (same path kind, payload and callers) is taken within each
// round; the scenario reports every round's ratio and their median.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scenarios/pools.h"
#include "support/bare_stub.h"
#include "support/direct_worker.h"
#include "support/echo_process.h"
#include "support/rounds.h"

namespace snakepit::bench {
namespace {

// The library paths: one process pool of one worker per entry, named
// "library_" + WorkerTransportName. A worker transport the library gains
// (include/snakepit/config.h) is measured by adding its line to this table;
// its per-round ratio to library_grpcio comes with it. kGrpcio must stay:
// it is the baseline of every ratio.
constexpr WorkerTransport kLibraryTransports[] = {
    WorkerTransport::kShm,
    WorkerTransport::kNative,
    WorkerTransport::kGrpcio,
};

struct Point {
  std::string path;     // "stub_native", "library_grpcio", ...
  std::string payload;  // "no-op", "1 MiB", "16 MiB"
  std::size_t bytes = 0;
  std::string baseline;  // the grpcio path its ratios are against
};

nlohmann::json PointJson(const Point& p, const RoundsResult& r, const PairedRatios& vs_grpcio) {
  nlohmann::json j = r.ToJson();
  j["path"] = p.path;
  j["payload"] = p.payload;
  j["bytes"] = p.bytes;
  j["vs_grpcio"] = vs_grpcio.ToJson();
  j["vs_grpcio"]["baseline"] = p.baseline;
  j["vs_grpcio"]["metric"] = p.bytes == 0 ? "calls_per_s" : "inverse_p50";
  return j;
}

}  // namespace

nlohmann::json RunTransport(BenchEnv& env) {
  // More rounds than the other scenarios, shorter windows: the ratios are
  // taken per round, and their median wants several of them; two with
  // --quick, so that both orders run.
  const int rounds = env.flags.quick ? 2 : 7;
  nlohmann::json out = {
      {"python", env.flags.python}, {"rounds", rounds}, {"order", "alternating"}, {"command", "echo {}"}};
  std::unique_ptr<DirectWorker> workers[2];
  // The bare stubs speak gRPC: their hand-started workers run the two
  // gRPC transports (--transport), whatever kLibraryTransports holds.
  const char* transports[] = {"native", "grpcio"};
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::unique_ptr<DirectWorker>> w =
        DirectWorker::Start({.python = env.flags.python,
                             .python_path = env.flags.python_path,
                             .socket = env.scratch.File(absl::StrCat("transport-", transports[i], ".sock")),
                             .transport = transports[i]});
    if (!w.ok()) return WithError(out, w.status());
    out["ready"][transports[i]] = (*w)->ready_record().value("transport", "?");
    workers[i] = std::move(*w);
  }
  absl::StatusOr<std::unique_ptr<EchoProcess>> echo = EchoProcess::Start(env.flags.echo_server, env.scratch.path());
  if (!echo.ok()) return WithError(out, echo.status());
  BareStub native_stub(workers[0]->target()), grpcio_stub(workers[1]->target()), echo_stub((*echo)->grpc_target());
  struct Target {
    const char* name;
    BareStub* stub;
    pid_t pid;
  };
  const Target stubs[] = {{"stub_native", &native_stub, workers[0]->pid()},
                          {"stub_grpcio", &grpcio_stub, workers[1]->pid()},
                          {"stub_cpp_echo", &echo_stub, (*echo)->pid()}};

  std::vector<std::unique_ptr<PoolManager>> pools;
  std::vector<std::unique_ptr<PoolCaller>> pool_callers;
  std::vector<std::string> library_paths;
  for (WorkerTransport transport : kLibraryTransports) {
    PoolSpec spec = ProcessPool(1);
    spec.transport = transport;
    spec.label = "library_" + std::string(WorkerTransportName(transport));
    absl::StatusOr<std::unique_ptr<PoolManager>> started = StartPool(env, spec);
    if (!started.ok()) return WithError(out, started.status());
    pools.push_back(std::move(*started));
    pool_callers.push_back(std::make_unique<PoolCaller>(*pools.back(), "echo", nlohmann::json::object()));
    library_paths.push_back(spec.label);
  }
  const std::string library_grpcio = "library_" + std::string(WorkerTransportName(WorkerTransport::kGrpcio));

  std::vector<Point> meta;
  std::vector<std::function<LoadResult()>> points;
  const absl::Duration window = env.Time(0.5);
  for (const Target& t : stubs) {
    meta.push_back({t.name, "no-op", 0, "stub_grpcio"});
    points.push_back([t, window] {
      return RunLoad({.warmup = absl::Milliseconds(100), .duration = window, .worker_pids = {t.pid}},
                     [&s = *t.stub](int) { return s.Call("echo"); });
    });
  }
  for (std::size_t i = 0; i < pools.size(); ++i) {
    const std::vector<pid_t> pids = WorkerPids(*pools[i]);
    for (int callers : {1, 2}) {
      meta.push_back({library_paths[i], "no-op", 0, library_grpcio});
      points.push_back([&c = *pool_callers[i], pids, callers, window] {
        return RunLoad({.callers = callers, .warmup = absl::Milliseconds(100), .duration = window, .worker_pids = pids},
                       std::ref(c));
      });
    }
  }
  // The payloads live as long as the points that send them.
  // {label, bytes, measuring seconds}: a 16 MiB round trip takes up to
  // a quarter of a second on grpcio here, so it gets a longer window.
  const std::tuple<const char*, std::size_t, double> sizes[] = {{"1 MiB", 1 << 20, 0.75}, {"16 MiB", 16 << 20, 2.0}};
  std::vector<std::unique_ptr<std::string>> payloads;
  for (const auto& [label, bytes, seconds] : sizes) {
    payloads.push_back(std::make_unique<std::string>(bytes, 'x'));
    for (const Target& t : stubs) {
      meta.push_back({t.name, label, bytes, "stub_grpcio"});
      points.push_back([t, &payload = *payloads.back(), window = env.Time(seconds)] {
        return RunLoad({.warmup = absl::Milliseconds(150), .duration = window, .worker_pids = {t.pid}},
                       [&s = *t.stub, &payload](int) { return s.Call("echo_attachments", payload); });
      });
    }
  }

  const std::vector<RoundsResult> results = RunRounds(points, rounds, RoundOrder::kAlternating);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const LoadResult& r = results[i].median;
    // The grpcio point of the same kind, payload and callers.
    std::size_t base = i;
    for (std::size_t j = 0; j < meta.size(); ++j) {
      if (meta[j].path == meta[i].baseline && meta[j].payload == meta[i].payload &&
          results[j].median.callers == r.callers) {
        base = j;
      }
    }
    // No-ops by calls/s; payloads, a few slow calls per window, by the
    // inverse of their p50.
    const PairedRatios vs_grpcio = RatiosPerRound(
        results[i], results[base], meta[i].bytes == 0 ? RoundMetric(CallsPerS) : RoundMetric(InverseP50));
    std::printf(
        "  %-16s %-7s %d caller(s): %7.0f calls/s  p50 %8.0f us  server CPU %6.0f us/call  vs grpcio: median "
        "%.2f of rounds %s%s\n",
        meta[i].path.c_str(), meta[i].payload.c_str(), r.callers, r.calls_per_s, r.latency.p50_us,
        r.worker_cpu_us_per_call, vs_grpcio.median, vs_grpcio.Text().c_str(), r.errors > 0 ? "  (errors)" : "");
    out["points"].push_back(PointJson(meta[i], results[i], vs_grpcio));
  }
  return out;
}

}  // namespace snakepit::bench
