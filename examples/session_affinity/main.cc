// session_affinity: per-session state in Python workers, kept where the
// session's calls go.
//
// Pool "sessions" runs 3 process workers with sessions.py's adapter, which
// keeps a list per session id. Every call of a session carries the session
// id as its affinity key (CallOptions::affinity_key), so the router sends
// it to the worker that served the session last: the list is there, and
// the reply says "resumed": true.
//
// Then the pool shrinks to 1 worker (PoolManager::resize). Sessions whose
// worker left re-home: their next call lands on the remaining worker, which
// has no list for them, and says "resumed": false. The adapter's side of
// the pattern is to expect that (sessions.py explains it).
//
// The exit status is 1 if a call failed or a session's calls did not stay
// on one worker while it lived.
//
// docs/elastic.md explains affinity, resizing and autoscaling.
#include <cstdio>
#include <map>
#include <string>

#include "snakepit/snakepit.h"

namespace {

constexpr const char* kConfig = R"({
  "pools": [{"name": "sessions", "pool_size": 3, "adapter": "sessions:SessionAdapter"}]
})";

// One call of `session`; prints it. Returns the reply, or null on error.
nlohmann::json Append(snakepit::PoolManager& pm, const std::string& session, const std::string& item) {
  const snakepit::CallOptions options{.affinity_key = session};
  absl::StatusOr<nlohmann::json> r = pm.execute("sessions", "append", {{"session", session}, {"item", item}}, options);
  if (!r.ok()) {
    std::printf("%s: %s failed: %s\n", session.c_str(), item.c_str(), r.status().ToString().c_str());
    return nullptr;
  }
  std::printf("%-9s + %-3s -> pid %d, %zu items, resumed %s\n", session.c_str(), item.c_str(), (*r)["pid"].get<int>(),
              (*r)["items"].size(), (*r)["resumed"].get<bool>() ? "yes" : "no");
  return *r;
}

}  // namespace

int main() {
  snakepit::logger()->set_level(spdlog::level::warn);
  absl::StatusOr<snakepit::Config> config = snakepit::Config::FromJsonString(kConfig);
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", config.status().ToString().c_str());
    return 2;
  }
  config->pools[0].python_path = {SNAKEPIT_EXAMPLE_DIR};  // sessions.py sits beside this file
  absl::StatusOr<std::unique_ptr<snakepit::PoolManager>> pools = snakepit::PoolManager::Start(*config);
  if (!pools.ok()) {
    std::fprintf(stderr, "start: %s\n", pools.status().ToString().c_str());
    return 1;
  }
  snakepit::PoolManager& pm = **pools;
  int problems = 0;

  // Four sessions, interleaved: each keeps to its worker.
  std::map<std::string, int> home;  // session -> pid
  for (int round = 0; round < 4; ++round) {
    for (const std::string session : {"alice", "bob", "carol", "dave"}) {
      const nlohmann::json r = Append(pm, session, "r" + std::to_string(round));
      if (r.is_null()) {
        ++problems;
        continue;
      }
      const int pid = r["pid"].get<int>();
      if (round > 0 && (pid != home[session] || !r["resumed"].get<bool>())) {
        std::printf("  ! %s left its worker\n", session.c_str());
        ++problems;
      }
      home[session] = pid;
    }
  }
  const snakepit::PoolStats before = *pm.stats("sessions");
  std::printf("\n%d affinity keys over %zu workers:", before.affinity_keys, before.per_worker.size());
  for (const snakepit::WorkerStats& w : before.per_worker) std::printf(" pid %d: %d", w.pid, w.affinity_keys);

  // Shrink: the sessions of the workers that leave re-home.
  std::printf("\n\nresize to 1 worker\n");
  if (absl::Status s = pm.resize("sessions", 1); !s.ok()) {
    std::printf("resize failed: %s\n", s.ToString().c_str());
    return 1;
  }
  for (const std::string session : {"alice", "bob", "carol", "dave"}) {
    for (int i = 0; i < 2; ++i) {
      const nlohmann::json r = Append(pm, session, "s" + std::to_string(i));
      if (r.is_null()) ++problems;
    }
  }
  pm.shutdown();
  std::printf("\nproblems: %d\n", problems);
  return problems == 0 ? 0 : 1;
}
