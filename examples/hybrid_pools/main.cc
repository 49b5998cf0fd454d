// hybrid_pools: two named pools side by side.
//
//   "default": the process profile, 4 single-threaded Python workers.
//   "hpc":     the thread profile, 2 workers x 4 threads each.
//
// It runs a mix of calls on both, concurrently, then prints a line of each
// pool's stats (PoolStats::ToJson() has them all). Usage:
// hybrid_pools [pools.json]  (default: the config below).
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "snakepit/snakepit.h"

namespace {

constexpr const char* kDefaultConfig = R"({
  "pools": [
    {"name": "default", "profile": "process", "pool_size": 4},
    {"name": "hpc", "profile": "thread", "pool_size": 2, "threads_per_worker": 4,
     "preload": ["matmul"], "call_timeout": 10}
  ]
})";

// Set when a call that should succeed fails: the exit status says so, so
// the example doubles as a smoke test.
bool g_failed = false;

void Print(const char* what, const absl::StatusOr<nlohmann::json>& result, bool must_succeed = true) {
  if (!result.ok() && must_succeed) g_failed = true;
  if (result.ok()) {
    std::printf("%-34s -> %s\n", what, result->dump().c_str());
  } else if (std::optional<snakepit::PythonError> error = snakepit::GetPythonError(result.status())) {
    // A Python exception: its type and message; the status message and
    // error->traceback carry the traceback too.
    std::printf("%-34s -> Python %s: %s\n", what, error->type.c_str(), error->message.c_str());
  } else {
    // message() rather than ToString(): the latter appends the structured
    // Python-error payload, which snakepit::GetPythonError() reads instead.
    std::printf("%-34s -> error %s: %s\n", what, absl::StatusCodeToString(result.status().code()).c_str(),
                std::string(result.status().message()).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<snakepit::Config> config =
      argc > 1 ? snakepit::Config::FromJsonFile(argv[1]) : snakepit::Config::FromJsonString(kDefaultConfig);
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", config.status().ToString().c_str());
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<snakepit::PoolManager>> pools = snakepit::PoolManager::Start(*config);
  if (!pools.ok()) {
    std::fprintf(stderr, "start: %s\n", pools.status().ToString().c_str());
    return 1;
  }
  snakepit::PoolManager& pm = **pools;
  std::printf(
      "pools ready in %lld ms\n\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()));

  Print("default: add(2, 3)", pm.execute("default", "add", {{"a", 2}, {"b", 3}}));
  Print("default: echo({\"snake\": \"pit\"})", pm.execute("default", "echo", {{"snake", "pit"}}));
  Print("hpc: matmul(n=256)", pm.execute("hpc", "matmul", {{"n", 256}}));
  Print("default: threads_info (env)", [&]() -> absl::StatusOr<nlohmann::json> {
    auto r = pm.execute("default", "threads_info");
    if (!r.ok()) return r;
    return (*r)["env"];
  }());
  Print("default: raise_error", pm.execute("default", "raise_error", {{"message", "shown as a status"}}), false);
  Print("hpc: unknown command", pm.execute("hpc", "no_such_command"), false);

  // Eight 200 ms sleeps on each pool at once: 4 process workers take two
  // rounds; 2 x 4 threads take one.
  for (const char* pool : {"default", "hpc"}) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
    for (int i = 0; i < 8; ++i) calls.push_back(pm.execute_async(pool, "sleep", {{"ms", 200}}));
    int ok = 0;
    for (auto& f : calls) ok += f.get().ok() ? 1 : 0;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: 8 concurrent sleep(200ms): %d ok in %lld ms\n", pool, ok, static_cast<long long>(ms));
    if (ok != 8) g_failed = true;
  }

  std::printf("\n");
  for (const std::string& name : pm.list_pools()) {
    absl::StatusOr<snakepit::PoolStats> s = pm.stats(name);
    if (!s.ok()) continue;
    std::printf("%s: %llu calls, %llu failed, p50 %.1f ms, %d workers x %d threads\n", name.c_str(),
                static_cast<unsigned long long>(s->requests), static_cast<unsigned long long>(s->errors),
                std::chrono::duration<double, std::milli>(s->latency.p50).count(), s->workers, s->threads_per_worker);
  }
  pm.shutdown();
  return g_failed ? 1 : 0;
}
