// Scenario 13: warm start from a template (start_method, docs/lifecycle.md).
//
// Start-up: time from PoolManager::Start() to its return for process pools
// of 1 and 16 workers, spawned and forked from a template, in interleaved
// rounds (each round starts all four once). The figure of merit is each
// method's ratio, 16 workers / 1 worker (target: under 3x forked).
// Memory: total PSS of an 8-worker process pool whose adapter imports numpy,
// spawned and forked, in interleaved rounds; the forked pool's total
// includes the template itself (target: at most 60% of the spawned one).
// With --quick it prints the figures and no verdicts.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "scenarios/pools.h"
#include "scenarios/verdict.h"
#include "support/cpu_clock.h"

namespace snakepit::bench {
namespace {

constexpr char kNumpyAdapter[] = "numpy_preload:NumpyPreload";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

PoolSpec Spec(int workers, StartMethod method, const std::string& adapter = "") {
  PoolSpec spec = ProcessPool(workers);
  spec.start_method = method;
  spec.adapter = adapter;
  if (!adapter.empty()) spec.python_path = {SNAKEPIT_BENCH_ADAPTERS};
  spec.label += method == StartMethod::kTemplate ? " forked" : " spawned";
  return spec;
}

// Pss of one process from /proc/<pid>/smaps_rollup, in bytes; 0 if gone.
std::int64_t PssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  std::int64_t kib = 0;
  while (in >> key) {
    if (key == "Pss:" && in >> kib) return kib * 1024;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

// Whether every worker of the pool was made the way `spec` asks.
bool StartedAsAsked(const PoolManager& pools, const PoolSpec& spec) {
  const std::vector<WorkerStats> workers = pools.stats(kPool)->per_worker;
  for (const WorkerStats& w : workers) {
    if (w.forked != (spec.start_method == StartMethod::kTemplate)) return false;
  }
  return true;
}

nlohmann::json StartupRounds(BenchEnv& env) {
  const std::vector<PoolSpec> specs = {Spec(1, StartMethod::kSpawn), Spec(16, StartMethod::kSpawn),
                                       Spec(1, StartMethod::kTemplate), Spec(16, StartMethod::kTemplate)};
  std::vector<std::vector<double>> ms(specs.size());
  // CPU each worker (and each template) used to become ready: what the
  // cores, not the batching, must pay (ProcessCpu at ready).
  std::vector<std::vector<double>> worker_cpu_ms(specs.size()), template_cpu_ms(specs.size());
  const int rounds = env.Reps(5);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < specs.size(); ++i) {
      const absl::Time t0 = absl::Now();
      absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, specs[i]);
      const absl::Time t1 = absl::Now();
      if (!pools.ok()) return WithError({{"label", specs[i].label}}, pools.status());
      if (!StartedAsAsked(**pools, specs[i])) {
        return WithError({{"label", specs[i].label}}, absl::InternalError("workers not started as asked"));
      }
      std::set<int> templates;
      const std::vector<WorkerStats> workers = (*pools)->stats(kPool)->per_worker;
      for (const WorkerStats& w : workers) {
        worker_cpu_ms[i].push_back(absl::ToDoubleMilliseconds(ProcessCpu(w.pid)));
        if (w.template_pid != 0) templates.insert(w.template_pid);
      }
      for (int pid : templates) template_cpu_ms[i].push_back(absl::ToDoubleMilliseconds(ProcessCpu(pid)));
      (*pools)->shutdown();
      ms[i].push_back(absl::ToDoubleMilliseconds(t1 - t0));
    }
  }
  nlohmann::json out = {{"rounds", rounds}};
  for (size_t i = 0; i < specs.size(); ++i) {
    nlohmann::json j = specs[i].ToJson();
    j["start_ms"] = ms[i];
    j["start_ms_median"] = Median(ms[i]);
    j["worker_start_cpu_ms_median"] = Median(worker_cpu_ms[i]);
    j["template_start_cpu_ms_median"] = Median(template_cpu_ms[i]);
    std::printf("  %-22s ready in %6.0f ms (median of %d); CPU to ready: %.0f ms a worker, %.0f ms the template\n",
                specs[i].label.c_str(), Median(ms[i]), rounds, Median(worker_cpu_ms[i]), Median(template_cpu_ms[i]));
    out["pools"].push_back(j);
  }
  out["ratio_16_to_1_spawned"] = Median(ms[1]) / Median(ms[0]);
  out["ratio_16_to_1_forked"] = Median(ms[3]) / Median(ms[2]);
  std::printf("  16 workers / 1 worker: spawned %.1fx, forked %.1fx\n", out["ratio_16_to_1_spawned"].get<double>(),
              out["ratio_16_to_1_forked"].get<double>());
  PrintVerdict(env, "16-worker pool forked under 3x a 1-worker one", out["ratio_16_to_1_forked"].get<double>() < 3,
               absl::StrFormat("%.1fx", out["ratio_16_to_1_forked"].get<double>()));
  return out;
}

nlohmann::json MemoryRounds(BenchEnv& env) {
  const std::vector<PoolSpec> specs = {Spec(8, StartMethod::kSpawn, kNumpyAdapter),
                                       Spec(8, StartMethod::kTemplate, kNumpyAdapter)};
  std::vector<std::vector<double>> pss_mib(specs.size()), template_mib(specs.size());
  const int rounds = env.Reps(3);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < specs.size(); ++i) {
      absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, specs[i]);
      if (!pools.ok()) return WithError({{"label", specs[i].label}}, pools.status());
      // Every worker serves once: its handler threads and arenas exist.
      if (absl::Status filled = FillSlots(**pools, 8, "ping", nlohmann::json::object()); !filled.ok()) {
        return WithError({{"label", specs[i].label}}, filled);
      }
      const nlohmann::json memory = MeasureMemory(**pools);
      std::set<int> templates;
      const std::vector<WorkerStats> workers = (*pools)->stats(kPool)->per_worker;
      for (const WorkerStats& w : workers) {
        if (w.template_pid != 0) templates.insert(w.template_pid);
      }
      std::int64_t template_pss = 0;
      for (int pid : templates) template_pss += PssBytes(pid);
      (*pools)->shutdown();
      pss_mib[i].push_back(static_cast<double>(memory["pss_bytes"].get<std::int64_t>() + template_pss) / (1 << 20));
      template_mib[i].push_back(static_cast<double>(template_pss) / (1 << 20));
    }
  }
  nlohmann::json out = {{"rounds", rounds}, {"workers", 8}, {"adapter", kNumpyAdapter}};
  for (size_t i = 0; i < specs.size(); ++i) {
    nlohmann::json j = specs[i].ToJson();
    j["pss_mib"] = pss_mib[i];
    j["pss_mib_median"] = Median(pss_mib[i]);
    j["template_pss_mib_median"] = Median(template_mib[i]);
    std::printf("  %-22s PSS %6.1f MiB in all (template's share %.1f MiB; median of %d)\n", specs[i].label.c_str(),
                Median(pss_mib[i]), Median(template_mib[i]), rounds);
    out["pools"].push_back(j);
  }
  out["pss_forked_to_spawned"] = Median(pss_mib[1]) / Median(pss_mib[0]);
  std::printf("  PSS forked / spawned: %.0f%%\n", 100 * out["pss_forked_to_spawned"].get<double>());
  PrintVerdict(env, "forked pool's PSS at most 60% of the spawned one",
               out["pss_forked_to_spawned"].get<double>() <= 0.6,
               absl::StrFormat("%.0f%%", 100 * out["pss_forked_to_spawned"].get<double>()));
  return out;
}

}  // namespace

nlohmann::json RunWarmStart(BenchEnv& env) { return {{"startup", StartupRounds(env)}, {"memory", MemoryRounds(env)}}; }

}  // namespace snakepit::bench
