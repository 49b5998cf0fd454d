#include "cli/pools.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "snakepit/config.h"
#include "snakepit/logging.h"

namespace snakepit::cli {

void QuietLogs(bool verbose) { logger()->set_level(verbose ? spdlog::level::info : spdlog::level::warn); }

std::unique_ptr<PoolManager> StartPools(const std::string& command, const std::string& config_path,
                                        const StartOptions& options) {
  const bool progress = options.progress;
  absl::StatusOr<Config> config = Config::FromJsonFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "snakepit %s: %s\n", command.c_str(), std::string(config.status().message()).c_str());
    return nullptr;
  }
  if (!options.only_pool.empty()) {
    std::vector<PoolConfig> kept;
    std::string names;
    for (const PoolConfig& pool : config->pools) {
      names += (names.empty() ? "" : ", ") + pool.name;
      if (pool.name == options.only_pool) kept.push_back(pool);
    }
    if (kept.empty()) {
      std::fprintf(stderr, "snakepit %s: %s: unknown pool '%s' (pools: %s)\n", command.c_str(), config_path.c_str(),
                   options.only_pool.c_str(), names.c_str());
      return nullptr;
    }
    config->pools = std::move(kept);
  }
  // The application the config belongs to serves its own endpoint on that
  // port (inspect --url reads it); the CLI's pools open none.
  config->metrics.reset();
  if (options.abandon_at_exit) {
    for (PoolConfig& pool : config->pools) {
      pool.drain_timeout = std::chrono::milliseconds(0);
      pool.kill_grace = std::min(pool.kill_grace, std::chrono::milliseconds(500));
    }
  }
  int total = 0;
  for (const PoolConfig& pool : config->pools) total += pool.effective_pool_size();
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto ready = std::make_shared<std::atomic<int>>(0);
  auto print_mu = std::make_shared<std::mutex>();
  EventHandler on_event;
  if (progress) {
    std::fprintf(stderr, tty ? "starting workers: 0/%d ready" : "starting workers: 0/%d ready\n", total);
    on_event = [ready, print_mu, total, tty](const Event& event) {
      if (event.type != EventType::kWorkerReady) return;
      const int n = ready->fetch_add(1) + 1;
      if (n > total) return;  // later replacements
      std::lock_guard<std::mutex> lock(*print_mu);
      std::fprintf(stderr, tty ? "\rstarting workers: %d/%d ready" : "starting workers: %d/%d ready\n", n, total);
      std::fflush(stderr);
    };
  }
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(*config, on_event);
  if (progress && tty) std::fputc('\n', stderr);
  if (!pools.ok()) {
    std::fprintf(stderr, "snakepit %s: %s: %s\n", command.c_str(), config_path.c_str(),
                 std::string(pools.status().message()).c_str());
    return nullptr;
  }
  return *std::move(pools);
}

}  // namespace snakepit::cli
