// Scenario 6: memory at equal capacity (16 concurrent calls): 16 process
// workers against 2 thread workers x 8 threads and 4 x 4. Total PSS and RSS
// of the Python processes, as the Inspector measures them from /proc, with
// every slot used once (all handler threads exist), then again after each
// worker imported numpy. Also: the host's CPU while the pool sits idle
// (the library's background threads).
#include <chrono>
#include <cstdio>
#include <thread>

#include "scenarios/pools.h"
#include "support/cpu_clock.h"

namespace snakepit::bench {
namespace {

nlohmann::json RunOne(BenchEnv& env, const PoolSpec& spec) {
  nlohmann::json out = spec.ToJson();
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, spec);
  if (!pools.ok()) return WithError(out, pools.status());
  const int capacity = spec.workers * spec.threads;
  absl::Status filled = FillSlots(**pools, capacity, "sleep", {{"ms", 100}});
  if (!filled.ok()) return WithError(out, filled);
  out["idle"] = MeasureMemory(**pools);

  // Idle: no calls, only the library's own threads run.
  const absl::Duration idle_window = env.Time(1.5);
  const absl::Duration before = SelfCpu();
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(idle_window));
  out["host_idle_cpu_percent"] = 100 * absl::FDivDuration(SelfCpu() - before, idle_window);

  filled = FillSlots(**pools, capacity, "matmul", {{"n", 64}});
  if (!filled.ok()) return WithError(out, filled);
  out["numpy"] = MeasureMemory(**pools);
  std::printf("  %-12s PSS %5.0f MiB  RSS %5.0f MiB  (numpy loaded: PSS %5.0f MiB  RSS %5.0f MiB)  host idle %.2f%%\n",
              spec.label.c_str(), out["idle"]["pss_bytes"].get<double>() / (1 << 20),
              out["idle"]["rss_bytes"].get<double>() / (1 << 20), out["numpy"]["pss_bytes"].get<double>() / (1 << 20),
              out["numpy"]["rss_bytes"].get<double>() / (1 << 20), out["host_idle_cpu_percent"].get<double>());
  return out;
}

}  // namespace

nlohmann::json RunMemory(BenchEnv& env) {
  nlohmann::json out = {{"capacity", 16}};
  for (const PoolSpec& spec : {ProcessPool(16), ThreadPool(2, 8), ThreadPool(4, 4)}) {
    out["pools"].push_back(RunOne(env, spec));
  }
  return out;
}

}  // namespace snakepit::bench
