// The whole-pool scenarios of docs/performance.md (3-12), and scenario 1
// again as paired blocks (micro/ has it as Google Benchmark runs). Each runs its
// pools and its baselines itself, in the same run, and returns its
// measurements as JSON; bench/python/report.py turns them into ratios,
// tables and plots.
#ifndef SNAKEPIT_BENCH_SCENARIOS_SCENARIOS_H_
#define SNAKEPIT_BENCH_SCENARIOS_SCENARIOS_H_

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "support/flags.h"
#include "support/scratch_dir.h"

namespace snakepit::bench {

struct BenchEnv {
  BenchFlags flags;
  ScratchDir scratch;
  // Iterations of the showcase's cpu_loop that take about 1 ms here;
  // found by scenario 4 and reused by scenario 9 (0: not yet known).
  int cpu_loop_n = 0;

  // A measuring time: `seconds`, or a quarter of it with --quick.
  absl::Duration Time(double seconds) const { return absl::Seconds(flags.quick ? seconds / 4 : seconds); }
  // A repetition count: `n`, or a third of it (at least 1) with --quick.
  int Reps(int n) const { return flags.quick ? (n + 2) / 3 : n; }
  // Rounds of RunRounds (support/rounds.h): 3, or 1 with --quick.
  int Rounds() const { return flags.quick ? 1 : 3; }
};

nlohmann::json RunRouterOverhead(BenchEnv& env);  // 1, paired blocks
nlohmann::json RunSmallCalls(BenchEnv& env);      // 3
nlohmann::json RunCpuBound(BenchEnv& env);        // 4
nlohmann::json RunNative(BenchEnv& env);          // 5
nlohmann::json RunMemory(BenchEnv& env);          // 6
nlohmann::json RunStartup(BenchEnv& env);         // 7
nlohmann::json RunPayload(BenchEnv& env);         // 8
nlohmann::json RunAlternatives(BenchEnv& env);    // 9
nlohmann::json RunTransport(BenchEnv& env);       // 10
nlohmann::json RunFreeThreading(BenchEnv& env);   // 11
nlohmann::json RunStreaming(BenchEnv& env);       // 12
nlohmann::json RunWarmStart(BenchEnv& env);       // 13
nlohmann::json RunRemote(BenchEnv& env);          // 14 (root: network namespaces)
nlohmann::json RunAutoscale(BenchEnv& env);       // 15

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SCENARIOS_SCENARIOS_H_
