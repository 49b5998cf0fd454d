// snakepit_bench: the whole-pool scenarios (3-12 of docs/performance.md)
// and scenario 1 as paired blocks, one after another, written as one JSON
// document.
//
//   snakepit_bench --python-path DIR --echo-server PATH --embed PATH
//                  --script cpu_loop_script.py --out FILE [--quick]
//                  [--ft-python PATH] [--only small_calls,cpu_bound,...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "netns_hosts.h"
#include "scenarios/scenarios.h"
#include "scenarios/verdict.h"
#include "snakepit/logging.h"
#include "support/foreign_cpu.h"

int main(int argc, char** argv) {
  // Scenario 12 runs a worker in a network namespace, which needs this
  // process in a private network and mount namespace, entered while it has
  // one thread (unshare is per thread). As root only; otherwise it says why.
  (void)snakepit::testing::EnterPrivateNetwork();
  snakepit::bench::BenchEnv env;
  std::vector<char*> rest;
  env.flags = snakepit::bench::ParseFlags(argc, argv, &rest);
  if (rest.size() > 1 || env.flags.out.empty()) {
    std::fprintf(stderr, "usage: %s --python-path DIR --echo-server PATH --embed PATH --script FILE --out FILE\n",
                 argv[0]);
    return 2;
  }
  // Errors only: the scenarios run thread pools on a GIL interpreter on
  // purpose, which the library rightly warns about.
  snakepit::logger()->set_level(spdlog::level::err);
  // --quick prints no verdicts: the scenarios print theirs through
  // PrintVerdict, which stays silent then, and the guard fails the run if
  // any line of its output still reads as one.
  if (absl::Status detector = snakepit::bench::CheckVerdictDetector(); !detector.ok()) {
    std::fprintf(stderr, "%s\n", detector.ToString().c_str());
    return 1;
  }
  std::unique_ptr<snakepit::bench::QuickOutputGuard> guard;
  if (env.flags.quick) {
    absl::StatusOr<std::unique_ptr<snakepit::bench::QuickOutputGuard>> started =
        snakepit::bench::QuickOutputGuard::Start();
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
      return 1;
    }
    guard = std::move(*started);
  }
  // In order: scenario 4 finds the cpu_loop size that scenario 9 reuses.
  const std::pair<const char*, std::function<nlohmann::json(snakepit::bench::BenchEnv&)>> scenarios[] = {
      {"router_overhead", snakepit::bench::RunRouterOverhead},
      {"small_calls", snakepit::bench::RunSmallCalls},
      {"cpu_bound", snakepit::bench::RunCpuBound},
      {"native", snakepit::bench::RunNative},
      {"memory", snakepit::bench::RunMemory},
      {"startup", snakepit::bench::RunStartup},
      {"payload", snakepit::bench::RunPayload},
      {"alternatives", snakepit::bench::RunAlternatives},
      {"transport", snakepit::bench::RunTransport},
      {"free_threading", snakepit::bench::RunFreeThreading},
      {"streaming", snakepit::bench::RunStreaming},
      {"warm_start", snakepit::bench::RunWarmStart},
      {"remote", snakepit::bench::RunRemote},
      {"autoscale", snakepit::bench::RunAutoscale}};
  const std::vector<std::string> only = absl::StrSplit(env.flags.only, ',', absl::SkipEmpty());
  nlohmann::json out = {{"quick", env.flags.quick}};
  for (const auto& [name, run] : scenarios) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    std::printf("scenario %s\n", name);
    std::fflush(stdout);
    const auto started = std::chrono::steady_clock::now();
    const snakepit::bench::ForeignCpu foreign;
    double load[3] = {0, 0, 0};
    std::ifstream("/proc/loadavg") >> load[0] >> load[1] >> load[2];
    out[name] = run(env);
    out[name]["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out[name]["machine_cpu"] = foreign.Report();
    out[name]["load_average"] = load;  // 1, 5 and 15 minutes, at the start
    std::printf("  (other processes used %.2f cores meanwhile)\n",
                out[name]["machine_cpu"].value("foreign_cores", 0.0));
    std::fflush(stdout);
  }
  std::ofstream(env.flags.out) << out.dump(1) << "\n";
  if (guard != nullptr) {
    const std::vector<std::string> verdicts = guard->Finish();
    for (const std::string& line : verdicts)
      std::fprintf(stderr, "bench: --quick printed a verdict: %s\n", line.c_str());
    if (!verdicts.empty()) return 1;
  }
  return 0;
}
