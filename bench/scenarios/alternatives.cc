// Scenario 9: what a C++ programmer would otherwise write, for the
// CPU-bound call of scenario 4 (cpu_loop, about 1 ms):
//   library  a process pool of 2 workers (one per core here)
//   popen    `python3 cpu_loop_script.py N` spawned per call, through popen()
//   pybind11 the interpreter embedded in a C++ process (snakepit_bench_embed),
//            called from 1 and 2 C++ threads that take turns on the GIL
// at 1 and 2 concurrent callers.
#include <cstdio>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "scenarios/pools.h"
#include "support/load.h"
#include "support/rounds.h"

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

}  // namespace

nlohmann::json RunAlternatives(BenchEnv& env) {
  const int n = env.cpu_loop_n > 0 ? env.cpu_loop_n : 15'000;
  nlohmann::json out = {{"cpu_loop_n", n}, {"rounds", env.Rounds()}};
  const PoolSpec spec = ProcessPool(2);
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
  if (!pools.ok()) return WithError(out, pools.status());
  PoolCaller caller(**pools, "cpu_loop", {{"n", n}});
  const std::vector<pid_t> pids = WorkerPids(**pools);
  const std::string popen_command = absl::StrCat(Quote(env.flags.python), " ", Quote(env.flags.script), " ", n);
  const absl::Duration window = env.Time(0.7);

  // {kind, label, callers}: in this order in each round.
  const std::tuple<const char*, const char*, int> kinds[] = {{"library", "process 2", 1}, {"library", "process 2", 2},
                                                             {"popen", "popen", 1},       {"popen", "popen", 2},
                                                             {"pybind11", "pybind11", 1}, {"pybind11", "pybind11", 2}};
  std::vector<std::function<LoadResult()>> points;
  for (const auto& [kind, label, callers] : kinds) {
    const std::string k = kind;
    if (k == "library") {
      points.push_back([&, callers = callers] {
        return RunLoad({.callers = callers, .warmup = absl::Milliseconds(100), .duration = window, .worker_pids = pids},
                       std::ref(caller));
      });
    } else if (k == "popen") {
      points.push_back([&, callers = callers] {
        return RunLoad({.callers = callers, .warmup = absl::Milliseconds(100), .duration = window},
                       [&](int) { return PopenCall(popen_command); });
      });
    } else {
      points.push_back([&, callers = callers] { return Embedded(env, n, callers, window); });
    }
  }
  const std::vector<RoundsResult> results = RunRounds(points, env.Rounds());
  out["library"] = spec.ToJson();
  out["popen"] = {{"label", "popen per call"}};
  out["pybind11"] = {{"label", "pybind11 embedded"}};
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& [kind, label, callers] = kinds[i];
    const LoadResult& r = results[i].median;
    if (r.errors > 0) std::fprintf(stderr, "  error: %s\n", r.first_error.c_str());
    if (std::string(kind) == "pybind11") {
      std::printf("  %-10s %d threads: %6.0f calls/s  using %.2f cores\n", label, callers, r.calls_per_s,
                  r.worker_cores);
    } else {
      std::printf("  %-10s %d callers: %6.0f calls/s  p50 %6.0f us\n", label, callers, r.calls_per_s, r.latency.p50_us);
    }
    out[kind]["points"].push_back(results[i].ToJson());
  }
  return out;
}

}  // namespace snakepit::bench
