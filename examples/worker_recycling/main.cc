// worker_recycling: a pool that replaces its workers before a leak hurts.
//
// Pool "leaky" runs 2 process workers with leaky.py's adapter (the default
// adapter's commands plus "allocate", which keeps every block it
// allocates): it stands for a leak in a real adapter (a cache that never
// evicts, an extension that never frees). The pool recycles a worker once
//   - it has served worker_max_requests calls (20, plus 0-5 drawn per
//     worker so that workers started together do not all retire together),
//   - or its PSS exceeds worker_max_memory_mb (checked every 0.2 s).
// Every recycle is graceful: the replacement starts first, then the old
// worker drains its calls and stops, so callers never see an error.
//
// The load runs in two phases: mostly "add" first (the request limit comes
// first), then mostly "allocate" of 8 MiB (the memory limit comes first).
// Each worker_recycled event is printed as it arrives, the totals at the
// end. The exit status is 1 if any call failed.
//
// docs/lifecycle.md explains every lifecycle option and event.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "snakepit/snakepit.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A fresh worker (Python, grpc and the worker package; numpy is
// imported only by the commands that use it) measures 17-23 MiB of PSS
// and 33 MiB of RSS; the difference is pages it shares with the other
// workers. The limit leaves it about 60 MiB: 8 calls of allocate(8). The
// limit is on PSS, not RSS, so that shared pages do not count in full
// against every worker: see docs/lifecycle.md.
constexpr const char* kConfig = R"({
  "pools": [{
    "name": "leaky", "profile": "process", "pool_size": 2, "adapter": "leaky:LeakyAdapter",
    "worker_max_requests": 20, "worker_max_requests_jitter": 5,
    "worker_max_memory_mb": 80, "memory_check_interval": 0.2
  }]
})";

constexpr int kCalls = 150;
constexpr int kThreads = 4;
// One call every 50 ms (20 calls/s): a steady stream, as a service would
// see, rather than a burst that ends before a replacement has started.
constexpr milliseconds kCallInterval{50};
constexpr int kLeakMb = 8;

// Phase 1 (the first half): 1 call in 5 allocates, so a worker reaches its
// 20-25 requests having leaked only 32-40 MiB. Phase 2: 3 calls in 4
// allocate, so it passes the memory limit after about 11 calls.
bool Leaks(int call) { return call < kCalls / 2 ? call % 5 == 0 : call % 4 != 0; }

long long Ms(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }
long long Mib(std::int64_t bytes) { return static_cast<long long>(bytes >> 20); }

// Runs on the library's event thread: it only prints and counts, so it
// never delays later events.
void OnEvent(const snakepit::Event& e, std::atomic<int>& recycled_events) {
  if (e.type != snakepit::EventType::kWorkerRecycled) return;
  std::string memory;
  if (e.reason == "memory") memory = ", " + std::to_string(Mib(e.memory_bytes)) + " MiB PSS";
  std::printf("recycled %s-%d (pid %d): %-12s after %6lld ms, %2llu requests%s\n", e.pool.c_str(), e.worker_id, e.pid,
              e.reason.c_str(), static_cast<long long>(e.uptime.count()), static_cast<unsigned long long>(e.requests),
              memory.c_str());
  std::fflush(stdout);
  recycled_events.fetch_add(1);
}

// Sum of stats().recycles over every reason.
int TotalRecycles(const snakepit::PoolStats& stats) {
  int total = 0;
  for (const auto& [reason, count] : stats.recycles) total += static_cast<int>(count);
  return total;
}

}  // namespace

int main() {
  // The events below say what the library's info lines would; keep its
  // warnings (a drain that timed out, a failed start) and errors.
  snakepit::logger()->set_level(spdlog::level::warn);

  absl::StatusOr<snakepit::Config> config = snakepit::Config::FromJsonString(kConfig);
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", config.status().ToString().c_str());
    return 2;
  }
  // leaky.py sits beside this file (the build passes its directory).
  config->pools[0].python_path = {SNAKEPIT_EXAMPLE_DIR};
  const snakepit::PoolConfig& leaky = config->pools[0];

  // Counted by the event handler, read here; declared before the manager so
  // that it outlives the handler.
  std::atomic<int> recycled_events{0};
  // Subscribed through Start() so that no event can be missed.
  absl::StatusOr<std::unique_ptr<snakepit::PoolManager>> pools = snakepit::PoolManager::Start(
      *config, [&recycled_events](const snakepit::Event& e) { OnEvent(e, recycled_events); });
  if (!pools.ok()) {
    std::fprintf(stderr, "start: %s\n", pools.status().ToString().c_str());
    return 1;
  }
  snakepit::PoolManager& pm = **pools;

  // The first memory reading comes within one lifecycle tick of start-up.
  const auto measure_until = Clock::now() + std::chrono::seconds(2);
  absl::StatusOr<snakepit::PoolStats> stats = pm.stats("leaky");
  while (stats.ok() && Clock::now() < measure_until &&
         std::any_of(stats->per_worker.begin(), stats->per_worker.end(),
                     [](const snakepit::WorkerStats& w) { return w.pss_bytes == 0; })) {
    std::this_thread::sleep_for(milliseconds(50));
    stats = pm.stats("leaky");
  }
  if (!stats.ok()) {
    std::fprintf(stderr, "stats: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  std::printf("pool 'leaky': %d workers; worker_max_requests %lld (+0..%lld), worker_max_memory_mb %lld\n",
              stats->workers, static_cast<long long>(leaky.worker_max_requests),
              static_cast<long long>(leaky.worker_max_requests_jitter),
              static_cast<long long>(leaky.worker_max_memory_mb));
  for (const snakepit::WorkerStats& w : stats->per_worker) {
    std::printf("  fresh worker leaky-%d (pid %d): PSS %lld MiB, RSS %lld MiB, request limit %llu\n", w.id, w.pid,
                Mib(w.pss_bytes), Mib(w.rss_bytes), static_cast<unsigned long long>(w.request_limit));
  }
  std::printf("\n%d calls from %d threads, one every %lld ms; allocate(%d MiB) keeps its memory\n", kCalls, kThreads,
              static_cast<long long>(kCallInterval.count()), kLeakMb);
  std::fflush(stdout);

  std::atomic<int> next_call{0};
  std::atomic<int> failures{0};
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next_call.fetch_add(1)) < kCalls;) {
        std::this_thread::sleep_until(started + i * kCallInterval);
        absl::StatusOr<nlohmann::json> result = Leaks(i) ? pm.execute("leaky", "allocate", {{"mb", kLeakMb}})
                                                         : pm.execute("leaky", "add", {{"a", i}, {"b", 1}});
        if (!result.ok()) {
          failures.fetch_add(1);
          std::printf("call %d failed: %s: %s\n", i, absl::StatusCodeToString(result.status().code()).c_str(),
                      std::string(result.status().message()).c_str());
          std::fflush(stdout);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const long long load_ms = Ms(Clock::now() - started);

  // Recycles still under way finish in the background; wait for them (and
  // for their events to be printed) so that the totals are final.
  const auto settle_until = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < settle_until) {
    stats = pm.stats("leaky");
    if (!stats.ok()) break;
    const bool recycling = std::any_of(stats->per_worker.begin(), stats->per_worker.end(),
                                       [](const snakepit::WorkerStats& w) { return w.recycling; });
    if (!recycling && recycled_events.load() >= TotalRecycles(*stats)) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  if (!stats.ok()) {
    std::fprintf(stderr, "stats: %s\n", stats.status().ToString().c_str());
    return 1;
  }

  std::printf("\ncalls made: %d in %lld ms, failures: %d\n", kCalls, load_ms, failures.load());
  std::printf("recycles:");
  for (const char* reason : {"max_requests", "memory"}) {
    auto it = stats->recycles.find(reason);
    std::printf(" %s %llu", reason, static_cast<unsigned long long>(it == stats->recycles.end() ? 0 : it->second));
  }
  for (const auto& [reason, count] : stats->recycles) {
    if (reason != "max_requests" && reason != "memory") {
      std::printf(" %s %llu", reason.c_str(), static_cast<unsigned long long>(count));
    }
  }
  std::printf("; crashes %llu\n", static_cast<unsigned long long>(stats->crashes));
  for (const snakepit::WorkerStats& w : stats->per_worker) {
    // pss_bytes stays 0 until the first reading of a just-started worker.
    const std::string pss = w.pss_bytes > 0 ? std::to_string(Mib(w.pss_bytes)) + " MiB" : "not measured yet";
    std::printf("  now: leaky-%d (pid %d) %s, %llu of %llu requests, PSS %s\n", w.id, w.pid,
                std::string(snakepit::WorkerStateName(w.state)).c_str(), static_cast<unsigned long long>(w.requests),
                static_cast<unsigned long long>(w.request_limit), pss.c_str());
  }
  pm.shutdown();
  return failures.load() == 0 ? 0 : 1;
}
