// Chaos under load: while callers issue calls with unique tags, a chaos
// thread SIGKILLs, SIGSTOPs/SIGCONTs and recycles random workers. Every call
// must end with its own correct reply or a clear UNAVAILABLE /
// DEADLINE_EXCEEDED, within its deadline; the pool must heal; nothing may
// leak (processes, zombies, sockets, file descriptors). Half the callers
// mark their calls idempotent, so retries run under chaos too.
//
// SNAKEPIT_CHAOS_SECONDS sets the run time per profile (default
// SNAKEPIT_CHAOS_DEFAULT_SECONDS: 30, about a minute for both profiles,
// and 8 in sanitizer builds, which run 5 to 15 times slower); the longer
// variant is `SNAKEPIT_CHAOS_SECONDS=120 ctest -R Chaos`.
#include <dirent.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

int OpenFds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
  }
  return n - 3;  // ".", ".." and the directory's own fd
}

milliseconds RunTime() {
  const char* s = std::getenv("SNAKEPIT_CHAOS_SECONDS");
  return milliseconds(1000 * (s != nullptr ? std::max(1, std::atoi(s)) : SNAKEPIT_CHAOS_DEFAULT_SECONDS));
}

struct Tally {
  std::mutex mu;
  std::uint64_t calls = 0, ok = 0, kills = 0, stops = 0, recycles = 0;
  std::map<std::string, std::uint64_t> failures;  // by code
  std::vector<std::string> violations;
  std::set<pid_t> killed;  // SIGKILLed workers' pids
};

class Chaos : public ::testing::TestWithParam<const char*> {};

TEST_P(Chaos, EveryCallGetsItsOwnReplyOrAClearErrorAndThePoolHeals) {
  const std::string profile = GetParam();
  const int pool_size = profile == "process" ? 4 : 2;
  nlohmann::json pool = {{"name", "c"},
                         {"profile", profile},
                         {"pool_size", pool_size},
                         {"health_check_interval", 0.2},
                         {"health_check_timeout", 0.5},
                         {"health_check_failures", 2},
                         {"call_kill_timeout", 1},
                         {"restart_backoff_initial", 0.05},
                         {"restart_backoff_max", 0.5},
                         {"drain_timeout", 2},
                         {"kill_grace", 1}};
  if (profile == "thread") pool["threads_per_worker"] = 4;

  // gRPC keeps a few process-wide descriptors once used: warm it up first.
  { testing::StartOrDie(testing::MakeConfig({pool}))->shutdown(); }
  const int fds_before = OpenFds();

  testing::EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}), log.Handler());
  const std::string socket_dir = testing::SocketDir(*pools, "c");
  Tally tally;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> next_tag{1};
  const milliseconds timeout(2'000);

  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      std::mt19937 rng(i);
      while (!stop.load()) {
        const std::uint64_t tag = next_tag.fetch_add(1);
        const int ms = std::uniform_int_distribution<int>(0, 40)(rng);
        const auto t0 = Clock::now();
        absl::StatusOr<nlohmann::json> r =
            pools->execute("c", "sleep", {{"ms", ms}, {"tag", tag}}, {.timeout = timeout, .idempotent = i % 2 == 1});
        const auto took = Clock::now() - t0;
        std::lock_guard<std::mutex> lock(tally.mu);
        ++tally.calls;
        if (took > timeout + milliseconds(1'000)) {
          tally.violations.push_back("call " + std::to_string(tag) + " took " +
                                     std::to_string(std::chrono::duration_cast<milliseconds>(took).count()) + " ms");
        }
        if (r.ok()) {
          if ((*r)["tag"] != tag) {
            tally.violations.push_back("call " + std::to_string(tag) + " got the reply of " + (*r)["tag"].dump());
          }
          ++tally.ok;
        } else if (absl::IsUnavailable(r.status()) || absl::IsDeadlineExceeded(r.status())) {
          ++tally.failures[absl::StatusCodeToString(r.status().code())];
        } else {
          tally.violations.push_back("call " + std::to_string(tag) + ": " + r.status().ToString());
        }
      }
    });
  }

  std::thread chaos([&] {
    std::mt19937 rng(42);
    while (!stop.load()) {
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(150, 300)(rng)));
      absl::StatusOr<PoolStats> s = pools->stats("c");
      if (!s.ok()) continue;
      std::vector<WorkerStats> ready;
      for (const WorkerStats& w : s->per_worker) {
        if (w.state == WorkerState::kReady && w.pid > 0) ready.push_back(w);
      }
      if (ready.empty()) continue;
      const WorkerStats victim = ready[std::uniform_int_distribution<std::size_t>(0, ready.size() - 1)(rng)];
      const int action = std::uniform_int_distribution<int>(0, 2)(rng);
      std::lock_guard<std::mutex> lock(tally.mu);
      if (action == 0) {
        ::kill(victim.pid, SIGKILL);
        tally.killed.insert(victim.pid);
        ++tally.kills;
      } else if (action == 1) {
        ::kill(victim.pid, SIGSTOP);
        std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(100, 900)(rng)));
        ::kill(victim.pid, SIGCONT);
        ++tally.stops;
      } else if (pools->recycle_worker("c", victim.id).ok()) {
        ++tally.recycles;
      }
    }
  });

  std::this_thread::sleep_for(RunTime());
  stop = true;
  chaos.join();
  for (std::thread& t : callers) t.join();

  // The pool heals: back to full size, every worker ready and answering.
  // A worker SIGKILLed just before the chaos stopped stays "ready" until
  // the host reaps it, a few milliseconds later (longer on a busy machine);
  // a call sent in between fails UNAVAILABLE, as it must. So the pool has
  // healed once none of the killed workers is left in it.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<PoolStats> s = pools->stats("c");
        int ready = 0;
        for (const WorkerStats& w : s->per_worker) {
          if (tally.killed.count(w.pid) > 0) return false;
          ready += w.state == WorkerState::kReady ? 1 : 0;
        }
        return ready == pool_size && s->in_flight == 0;
      },
      milliseconds(20'000)))
      << pools->stats("c")->ToJson().dump(2);
  for (int i = 0; i < 2 * pool_size; ++i) {
    absl::StatusOr<nlohmann::json> pong = pools->execute("c", "ping", {}, {.timeout = milliseconds(5'000)});
    EXPECT_TRUE(pong.ok()) << pong.status() << "\n" << pools->stats("c")->ToJson().dump(2);
  }

  std::string failures;
  for (const auto& [code, n] : tally.failures) failures += " " + code + "=" + std::to_string(n);
  std::printf("chaos %s: %llu calls, %llu ok, failures:%s; %llu kills, %llu stops, %llu recycles\n", profile.c_str(),
              static_cast<unsigned long long>(tally.calls), static_cast<unsigned long long>(tally.ok),
              failures.empty() ? " none" : failures.c_str(), static_cast<unsigned long long>(tally.kills),
              static_cast<unsigned long long>(tally.stops), static_cast<unsigned long long>(tally.recycles));
  for (const std::string& v : tally.violations) ADD_FAILURE() << v;
  EXPECT_GT(tally.ok, tally.calls / 2) << "most calls should succeed";
  EXPECT_GT(tally.kills + tally.stops + tally.recycles, 0u);

  testing::ExpectCleanShutdown(*pools, log, socket_dir);
  pools.reset();
  EXPECT_EQ(OpenFds(), fds_before) << "file descriptors leaked";
}

INSTANTIATE_TEST_SUITE_P(Profiles, Chaos, ::testing::Values("process", "thread"),
                         [](const ::testing::TestParamInfo<const char*>& param) { return std::string(param.param); });

}  // namespace
}  // namespace snakepit
