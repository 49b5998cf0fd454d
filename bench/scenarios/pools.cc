#include "scenarios/pools.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace snakepit::bench {

nlohmann::json PoolSpec::ToJson() const {
  nlohmann::json j = {{"label", label},
                      {"profile", ProfileName(profile)},
                      {"workers", workers},
                      {"threads_per_worker", threads},
                      {"capacity", workers * threads},
                      {"startup_batch_size", startup_batch_size}};
  if (!env.empty()) j["env"] = env;
  if (!python.empty()) j["python"] = python;
  j["worker_transport"] = WorkerTransportName(transport);
  j["start_method"] = StartMethodName(start_method);
  if (!adapter.empty()) j["adapter"] = adapter;
  return j;
}

PoolSpec ProcessPool(int workers) {
  return PoolSpec{.label = absl::StrCat("process ", workers), .profile = Profile::kProcess, .workers = workers};
}

PoolSpec ThreadPool(int workers, int threads) {
  return PoolSpec{.label = absl::StrCat("thread ", workers, "x", threads),
                  .profile = Profile::kThread,
                  .workers = workers,
                  .threads = threads};
}

absl::StatusOr<std::unique_ptr<PoolManager>> StartPool(const BenchEnv& env, const PoolSpec& spec) {
  Config config;
  PoolConfig pool;
  pool.name = kPool;
  pool.profile = spec.profile;
  pool.pool_size = spec.workers;
  pool.threads_per_worker = spec.profile == Profile::kThread ? spec.threads : 1;
  pool.python = spec.python.empty() ? env.flags.python : spec.python;
  pool.worker_transport = spec.transport;
  pool.env = spec.env;
  pool.startup_batch_size = spec.startup_batch_size;
  pool.start_method = spec.start_method;
  if (!spec.adapter.empty()) pool.adapter = spec.adapter;
  pool.python_path = spec.python_path;
  // Workers stop at once at shutdown: nothing is left in flight.
  pool.kill_grace = std::chrono::milliseconds(2'000);
  config.pools.push_back(std::move(pool));
  return PoolManager::Start(config);
}

std::vector<pid_t> WorkerPids(const PoolManager& pools) {
  std::vector<pid_t> pids;
  absl::StatusOr<PoolStats> stats = pools.stats(kPool);
  if (!stats.ok()) return pids;
  for (const WorkerStats& w : stats->per_worker) pids.push_back(w.pid);
  return pids;
}

absl::StatusOr<int> CalibrateCpuLoop(PoolManager& pools, absl::Duration target) {
  constexpr int kProbe = 20'000;
  std::vector<double> seconds;
  for (int i = 0; i < 15; ++i) {
    absl::StatusOr<nlohmann::json> r = pools.execute(kPool, "cpu_loop", {{"n", kProbe}});
    if (!r.ok()) return r.status();
    seconds.push_back(r->at("elapsed_s").get<double>());
  }
  std::sort(seconds.begin(), seconds.end());
  return std::max(1, static_cast<int>(kProbe * absl::ToDoubleSeconds(target) / seconds[seconds.size() / 2]));
}

nlohmann::json InterpreterJson(const std::string& python) {
  absl::StatusOr<PythonEnvironment> probe = PythonEnvironment::Probe({.python = python, .packages = false});
  if (!probe.ok()) return {{"error", probe.status().ToString()}};
  return {{"executable", probe->executable},
          {"version", probe->version},
          {"free_threaded_build", probe->free_threaded_build},
          {"gil_enabled", probe->gil_enabled_after_imports},
          {"runs_threads_in_parallel", probe->runs_threads_in_parallel()}};
}

absl::Status FillSlots(PoolManager& pools, int capacity, const std::string& command, const nlohmann::json& args) {
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < capacity; ++i) calls.push_back(pools.execute_async(kPool, command, args));
  for (auto& call : calls) {
    absl::StatusOr<nlohmann::json> r = call.get();
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

nlohmann::json MeasureMemory(PoolManager& pools) {
  // A moment for freed memory to be returned and for the kernel's counters.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Inspector inspector(pools);
  const InspectionReport report = inspector.Inspect();
  nlohmann::json out = {{"rss_bytes", 0}, {"pss_bytes", 0}};
  for (const PoolReport& pool : report.pools) {
    out["rss_bytes"] = pool.rss_bytes;
    out["pss_bytes"] = pool.pss_bytes;
    for (const WorkerReport& w : pool.workers) {
      out["per_worker"].push_back(
          {{"pid", w.stats.pid}, {"rss_bytes", w.stats.rss_bytes}, {"pss_bytes", w.stats.pss_bytes}});
    }
  }
  return out;
}

nlohmann::json WithError(nlohmann::json j, const absl::Status& error) {
  std::fprintf(stderr, "  error: %s\n", error.ToString().c_str());
  j["error"] = error.ToString();
  return j;
}

absl::Status PoolCaller::operator()(int /*caller*/) {
  absl::StatusOr<Reply> reply = pools_.call(kPool, command_, args_);
  if (!reply.ok()) return reply.status();
  calls_.fetch_add(1, std::memory_order_relaxed);
  python_ns_.fetch_add(reply->python_time.count(), std::memory_order_relaxed);
  python_cpu_ns_.fetch_add(reply->python_cpu_time.count(), std::memory_order_relaxed);
  if (!seconds_field_.empty() && reply->result.is_object()) {
    const double seconds = reply->result.value(seconds_field_, 0.0);
    field_ns_.fetch_add(static_cast<std::int64_t>(seconds * 1e9), std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

nlohmann::json PoolCaller::PythonTimes() const {
  const double n = static_cast<double>(std::max<std::int64_t>(1, calls_.load()));
  nlohmann::json times = {{"python_us", static_cast<double>(python_ns_.load()) / 1000.0 / n},
                          {"python_cpu_us", static_cast<double>(python_cpu_ns_.load()) / 1000.0 / n}};
  if (!seconds_field_.empty()) times[seconds_field_ + "_us"] = static_cast<double>(field_ns_.load()) / 1000.0 / n;
  return times;
}

}  // namespace snakepit::bench
