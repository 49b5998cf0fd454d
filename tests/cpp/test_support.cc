#include "test_support.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"

namespace snakepit::testing {

Config MakeConfig(std::vector<nlohmann::json> pools) {
  nlohmann::json doc = {{"pools", nlohmann::json::array()}};
  for (nlohmann::json& p : pools) {
    if (!p.contains("python_path")) p["python_path"] = {SNAKEPIT_TEST_ADAPTERS};
    if (!p.contains("startup_timeout")) p["startup_timeout"] = 20;
    if (!p.contains("kill_grace")) p["kill_grace"] = 2;
    if (!p.contains("drain_timeout")) p["drain_timeout"] = 5;
    doc["pools"].push_back(p);
  }
  absl::StatusOr<Config> config = Config::FromJson(doc);
  if (!config.ok()) {
    ADD_FAILURE() << "bad test config: " << config.status();
    return Config{};
  }
  return *config;
}

std::unique_ptr<PoolManager> StartOrDie(const Config& config) {
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(config);
  if (!pools.ok()) {
    ADD_FAILURE() << "PoolManager::Start failed: " << pools.status();
    return nullptr;
  }
  return *std::move(pools);
}

bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  // Field 3, after "pid (comm)", is the state; Z is a zombie.
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

std::vector<int> WorkerPids(PoolManager& pools, const std::string& pool) {
  std::vector<int> pids;
  absl::StatusOr<PoolStats> stats = pools.stats(pool);
  if (!stats.ok()) return pids;
  for (const WorkerStats& w : stats->per_worker) {
    if (w.state == WorkerState::kReady) pids.push_back(w.pid);
  }
  return pids;
}

}  // namespace snakepit::testing
