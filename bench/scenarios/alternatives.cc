// Scenario 9: what a C++ programmer would otherwise write, for a no-op
// call and for the CPU-bound call of scenario 4 (cpu_loop, about 1 ms):
//   library         a snakepit process pool of 2 workers (one per core here)
//   socket_server   a hand-written Python server on a Unix socket (8-byte
//                   length + JSON, one forked process per connection:
//                   bench/python/socket_server.py), one connection per caller
//   process_pool_executor
//                   the same socket and framing in front of a
//                   concurrent.futures.ProcessPoolExecutor of 2 processes
//   popen           `python3 cpu_loop_script.py N` spawned per call (CPU-bound only)
//   pybind11        the interpreter embedded in a C++ process
//                   (snakepit_bench_embed), called from 1 and 2 C++ threads
//                   that take turns on the GIL (CPU-bound only)
// at 1 and 2 concurrent callers. Every point runs once per round, the
// order alternating between rounds; each point's ratio to the library
// (same call, same callers) is taken within each round, and the median of
// those ratios is reported.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "scenarios/pools.h"
#include "support/load.h"
#include "support/raw_echo_client.h"
#include "support/rounds.h"
#include "support/subprocess.h"

namespace snakepit::bench {
namespace {

// The whole of a command's stdout, and its exit status.
absl::StatusOr<std::string> Run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed: " + command);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != 0) return absl::InternalError(absl::StrCat("exit status ", status, ": ", command));
  return out;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

absl::Status PopenCall(const std::string& command) {
  absl::StatusOr<std::string> printed = Run(command);
  if (!printed.ok()) return printed.status();
  const nlohmann::json result = nlohmann::json::parse(*printed, nullptr, false);
  if (!result.is_object() || !result.contains("checksum")) return absl::InternalError("bad output: " + *printed);
  return absl::OkStatus();
}

// One run of snakepit_bench_embed, as a LoadResult (calls/s and CPU only;
// it measures itself). A failure comes back as an error with no calls.
LoadResult Embedded(const BenchEnv& env, int n, int threads, absl::Duration duration) {
  LoadResult r;
  r.callers = threads;
  r.seconds = absl::ToDoubleSeconds(duration);
  const std::string dir = env.flags.script.substr(0, env.flags.script.rfind('/'));
  absl::StatusOr<std::string> printed = Run(absl::StrCat(Quote(env.flags.embed), " --module-dir ", Quote(dir), " --n ",
                                                         n, " --threads ", threads, " --seconds ", r.seconds));
  const nlohmann::json j = printed.ok() ? nlohmann::json::parse(*printed, nullptr, false) : nlohmann::json();
  if (!j.is_object()) {
    r.errors = 1;
    r.first_error = printed.ok() ? "bad output: " + *printed : printed.status().ToString();
    return r;
  }
  r.calls = j.value("calls", 0);
  r.calls_per_s = j.value("calls_per_s", 0.0);
  r.worker_cores = j.value("cpu_cores", 0.0);  // the embedding process is the "worker" here
  return r;
}

// bench/python/socket_server.py, started by the scenario and stopped
// (SIGTERM) when this goes, with one connection per caller.
struct SocketServer {
  std::unique_ptr<Subprocess> process;
  std::vector<std::unique_ptr<RawEchoClient>> connections;

  // One request/reply on caller `caller`'s connection; the reply must be a
  // JSON object.
  absl::Status Call(int caller, const std::string& request) {
    std::string reply;
    if (absl::Status s = connections[static_cast<std::size_t>(caller)]->RoundTrip(request, &reply); !s.ok()) return s;
    if (!nlohmann::json::parse(reply, nullptr, false).is_object()) return absl::DataLossError("bad reply: " + reply);
    return absl::OkStatus();
  }
};

absl::StatusOr<SocketServer> StartSocketServer(const BenchEnv& env, const std::string& name, int executor,
                                               int connections) {
  const std::string dir = env.flags.script.substr(0, env.flags.script.rfind('/'));
  const std::string socket = env.scratch.File(name + ".sock");
  SpawnOptions spawn{.argv = {env.flags.python, dir + "/socket_server.py", "--socket", socket}};
  if (executor > 0) spawn.argv.insert(spawn.argv.end(), {"--executor", absl::StrCat(executor)});
  SocketServer server;
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(spawn);
  if (!process.ok()) return process.status();
  server.process = std::move(*process);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (static_cast<int>(server.connections.size()) < connections) {
    absl::StatusOr<std::unique_ptr<RawEchoClient>> c = RawEchoClient::Connect(socket);
    if (c.ok()) {
      server.connections.push_back(std::move(*c));
      continue;
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError(absl::StrCat(name, ": ", c.status().message()));
    absl::SleepFor(absl::Milliseconds(20));
  }
  return server;
}

struct Point {
  std::string call;  // "no-op" or "cpu_loop"
  std::string path;  // "library", "socket_server", ...
  int callers;
};

}  // namespace

nlohmann::json RunAlternatives(BenchEnv& env) {
  const int n = env.cpu_loop_n > 0 ? env.cpu_loop_n : 15'000;
  const PoolSpec spec = ProcessPool(2);
  nlohmann::json out = {{"cpu_loop_n", n},
                        {"rounds", env.Rounds()},
                        {"order", "alternating"},
                        {"library", spec.ToJson()},
                        {"python", env.flags.python}};
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
  if (!pools.ok()) return WithError(out, pools.status());
  PoolCaller library_noop(**pools, "echo", nlohmann::json::object());
  PoolCaller library_cpu(**pools, "cpu_loop", {{"n", n}});
  const std::vector<pid_t> pids = WorkerPids(**pools);
  absl::StatusOr<SocketServer> forked = StartSocketServer(env, "socket_server", 0, 2);
  if (!forked.ok()) return WithError(out, forked.status());
  absl::StatusOr<SocketServer> executor = StartSocketServer(env, "process_pool_executor", 2, 2);
  if (!executor.ok()) return WithError(out, executor.status());
  const std::string noop_request = R"({"command": "noop"})";
  const std::string cpu_request = absl::StrCat(R"({"command": "cpu_loop", "n": )", n, "}");
  const std::string popen_command = absl::StrCat(Quote(env.flags.python), " ", Quote(env.flags.script), " ", n);
  const absl::Duration window = env.Time(0.7);

  std::vector<Point> meta;
  std::vector<std::function<LoadResult()>> points;
  const auto load = [&](int callers, std::function<absl::Status(int)> call, std::vector<pid_t> measured = {}) {
    return [=] {
      return RunLoad(
          {.callers = callers, .warmup = absl::Milliseconds(100), .duration = window, .worker_pids = measured}, call);
    };
  };
  for (const std::string call : {"no-op", "cpu_loop"}) {
    const bool cpu = call == "cpu_loop";
    const std::string& request = cpu ? cpu_request : noop_request;
    PoolCaller& library = cpu ? library_cpu : library_noop;
    for (int callers : {1, 2}) {
      meta.push_back({call, "library", callers});
      points.push_back(load(callers, std::ref(library), pids));
      meta.push_back({call, "socket_server", callers});
      points.push_back(load(callers, [&s = *forked, &request](int c) { return s.Call(c, request); }));
      meta.push_back({call, "process_pool_executor", callers});
      points.push_back(load(callers, [&s = *executor, &request](int c) { return s.Call(c, request); }));
      if (!cpu) continue;
      meta.push_back({call, "popen", callers});
      points.push_back(load(callers, [&](int) { return PopenCall(popen_command); }));
      meta.push_back({call, "pybind11", callers});
      points.push_back([&, callers] { return Embedded(env, n, callers, window); });
    }
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds(), RoundOrder::kAlternating);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Point& m = meta[i];
    const LoadResult& r = results[i].median;
    std::size_t base = i;
    for (std::size_t j = 0; j < meta.size(); ++j) {
      if (meta[j].path == "library" && meta[j].call == m.call && meta[j].callers == m.callers) base = j;
    }
    const PairedRatios vs_library = RatiosPerRound(results[i], results[base]);
    if (r.errors > 0) std::fprintf(stderr, "  error: %s: %s\n", m.path.c_str(), r.first_error.c_str());
    std::printf("  %-8s %-21s %d caller(s): %7.0f calls/s  p50 %7.0f us  vs library: median %.2f of %zu rounds\n",
                m.call.c_str(), m.path.c_str(), m.callers, r.calls_per_s, r.latency.p50_us, vs_library.median,
                vs_library.per_round.size());
    nlohmann::json j = results[i].ToJson();
    j["call"] = m.call;
    j["path"] = m.path;
    j["vs_library"] = vs_library.ToJson();
    if (m.path == "library") j.update((m.call == "cpu_loop" ? library_cpu : library_noop).PythonTimes());
    out["points"].push_back(j);
  }
  return out;
}

}  // namespace snakepit::bench
