// snakepit_micro: Google Benchmark's runner for the no-op call (scenarios 1
// and 2). Everything the benchmarks call is started before the first one
// and stopped after the last, and the runs of the different benchmarks are
// interleaved at random, so that a slow moment of this shared machine
// does not land on one side of a comparison only.
//
//   snakepit_micro --python-path DIR --echo-server PATH [--quick] [--benchmark_*...]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "micro/targets.h"
#include "snakepit/logging.h"

namespace {

bool HasFlag(const std::vector<char*>& args, const char* prefix) {
  for (const char* a : args) {
    if (std::strncmp(a, prefix, std::strlen(prefix)) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  snakepit::bench::Targets targets;
  std::vector<char*> args;
  targets.flags = snakepit::bench::ParseFlags(argc, argv, &args);
  // Defaults sized for a 2-core machine; any --benchmark_* given wins.
  std::vector<std::string> defaults = {"--benchmark_enable_random_interleaving=true",
                                       targets.flags.quick ? "--benchmark_repetitions=2" : "--benchmark_repetitions=6",
                                       targets.flags.quick ? "--benchmark_min_time=0.1" : "--benchmark_min_time=0.5",
                                       "--benchmark_report_aggregates_only=false"};
  for (std::string& flag : defaults) {
    if (!HasFlag(args, flag.substr(0, flag.find('=')).c_str())) args.push_back(flag.data());
  }
  int args_count = static_cast<int>(args.size());
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 2;

  snakepit::logger()->set_level(spdlog::level::warn);
  if (absl::Status started = snakepit::bench::StartTargets(targets); !started.ok()) {
    std::fprintf(stderr, "snakepit_micro: cannot start: %s\n", started.ToString().c_str());
    return 1;
  }
  snakepit::bench::RegisterLibraryBenchmarks(&targets);
  snakepit::bench::RegisterBaselineBenchmarks(&targets);
  snakepit::bench::RegisterShmBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  targets.pools->shutdown();
  return 0;
}
