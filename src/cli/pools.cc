#include "cli/pools.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

#include "absl/strings/str_format.h"
#include "snakepit/config.h"

namespace snakepit::cli {
namespace {

// Keeps only the pool named `name`; false (config untouched) if there is none.
bool KeepOnly(Config& config, const std::string& name) {
  std::vector<PoolConfig> kept;
  for (const PoolConfig& pool : config.pools) {
    if (pool.name == name) kept.push_back(pool);
  }
  if (kept.empty()) return false;
  config.pools = std::move(kept);
  return true;
}

// Prints the progress line as workers become ready. Print(0) and Finish()
// run on the thread that starts the pools, OnEvent() on the library's event
// thread; the mutex keeps their writes to stderr whole and in order. Events
// reach OnEvent asynchronously, so Start() may return before the last
// kWorkerReady does: Finish() then prints the final count itself, and
// OnEvent ignores what comes after it.
class Progress {
 public:
  explicit Progress(const Config& config) : tty_(::isatty(STDERR_FILENO) == 1) {
    for (const PoolConfig& pool : config.pools) total_ += pool.effective_pool_size();
    if (config.pools.size() == 1) pool_ = config.pools.front().name;
  }

  void Print(int ready) {
    std::lock_guard<std::mutex> lock(mu_);
    PrintLocked(ready);
  }

  void OnEvent(const Event& event) {
    if (event.type != EventType::kWorkerReady) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_ || printed_ >= total_) return;  // not the later replacements
    PrintLocked(printed_ + 1);
  }

  // `started`: every worker is ready. Ends the line on a terminal, so that
  // what follows starts on its own.
  void Finish(bool started) {
    std::lock_guard<std::mutex> lock(mu_);
    if (started && printed_ < total_) PrintLocked(total_);
    finished_ = true;
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  void PrintLocked(int ready) {
    printed_ = ready;
    const std::string line = pool_.empty()
                                 ? absl::StrFormat("starting workers: %d/%d ready", ready, total_)
                                 : absl::StrFormat("starting pool %s: %d/%d workers ready", pool_, ready, total_);
    std::fprintf(stderr, tty_ ? "\r%s" : "%s\n", line.c_str());
    std::fflush(stderr);
  }

  const bool tty_;
  int total_ = 0;
  std::string pool_;  // the one pool started, or "" for several
  std::mutex mu_;
  int printed_ = 0;        // guarded by mu_
  bool finished_ = false;  // guarded by mu_
};

}  // namespace

std::unique_ptr<PoolManager> StartPools(const std::string& command, const std::string& config_path,
                                        const StartOptions& options) {
  absl::StatusOr<Config> config = Config::FromJsonFile(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "snakepit %s: %s\n", command.c_str(), std::string(config.status().message()).c_str());
    return nullptr;
  }
  if (!options.only_pool.empty() && !KeepOnly(*config, options.only_pool)) {
    std::string names;
    for (const PoolConfig& pool : config->pools) names += (names.empty() ? "" : ", ") + pool.name;
    std::fprintf(stderr, "snakepit %s: %s: unknown pool '%s' (pools: %s)\n", command.c_str(), config_path.c_str(),
                 options.only_pool.c_str(), names.c_str());
    return nullptr;
  }
  // The application the config belongs to serves its own endpoint on that
  // port (inspect --url reads it); the CLI's pools open none.
  config->metrics.reset();
  for (PoolConfig& pool : config->pools) {
    if (options.workers > 0) pool.pool_size = options.workers;
    if (options.abandon_at_exit) {
      pool.drain_timeout = std::chrono::milliseconds(0);
      pool.kill_grace = std::min(pool.kill_grace, std::chrono::milliseconds(500));
    }
  }
  // Shared with the handler: the manager may deliver a late ready event (a
  // replacement) after Start() returned, and keeps its handler until it is
  // destroyed.
  auto progress = std::make_shared<Progress>(*config);
  EventHandler on_event;
  if (options.progress) {
    progress->Print(0);
    on_event = [progress](const Event& event) { progress->OnEvent(event); };
  }
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(*config, on_event);
  if (options.progress) progress->Finish(pools.ok());
  if (!pools.ok()) {
    std::fprintf(stderr, "snakepit %s: %s: %s\n", command.c_str(), config_path.c_str(),
                 std::string(pools.status().message()).c_str());
    return nullptr;
  }
  return *std::move(pools);
}

}  // namespace snakepit::cli
