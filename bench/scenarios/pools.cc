#include "scenarios/pools.h"

#include <algorithm>
#include <cstdio>
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
  pool.python = env.flags.python;
  pool.env = spec.env;
  pool.startup_batch_size = spec.startup_batch_size;
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
