// Helpers shared by the C++ tests: configs, /proc checks, waiting with a
// deadline. Nothing here fakes a worker: tests run real Python processes.
#ifndef SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_
#define SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "snakepit/snakepit.h"

namespace snakepit::testing {

// A config of the given pools (JSON objects as in docs/configuration.md);
// every pool gets the test adapters' directory on its python_path and short
// timeouts. Pools that set no "worker_transport" (no "python") get
// $SNAKEPIT_TEST_WORKER_TRANSPORT ($SNAKEPIT_TEST_WORKER_PYTHON) when set:
// ctest runs some suites again with those. Aborts the test on a config
// error.
Config MakeConfig(std::vector<nlohmann::json> pools);

// `pool` (a pool's JSON, as MakeConfig takes) set to load the test adapter,
// tests/python/adapters/fixtures.py: the default adapter's commands plus
// those only tests call (exit, segfault, getenv, pid, allocate, rlimits,
// big_reply, not_serializable...), which the default adapter lacks.
nlohmann::json WithFixtureAdapter(nlohmann::json pool);
// `pool` with the fixture adapter (WithFixtureAdapter) on the shared-memory
// transport, whatever $SNAKEPIT_TEST_WORKER_TRANSPORT says.
nlohmann::json ShmPool(nlohmann::json pool);

// Starts the pools or fails the test (ASSERT-style via the returned null).
// `on_event`, if given, sees every lifecycle event from the start.
std::unique_ptr<PoolManager> StartOrDie(const Config& config, EventHandler on_event = nullptr);

// Whether a process with this pid exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Live workers' pids of a pool.
std::vector<int> WorkerPids(PoolManager& pools, const std::string& pool);

// Records every lifecycle event of a PoolManager (subscribe it with
// Subscribe(), or pass Handler() to PoolManager::Start). Thread-safe.
class EventLog {
 public:
  EventLog();
  EventHandler Handler();
  std::vector<Event> Events() const;
  // Events of `type` (and, when given, `reason`).
  std::vector<Event> Of(EventType type, const std::string& reason = "") const;
  // Waits until at least `count` such events were seen.
  bool WaitFor(EventType type, const std::string& reason, std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Zombie children of this process (none should ever be left).
std::vector<pid_t> ZombieChildren();

// The socket directory of a live worker, read from its command line ("" if
// it has none or is gone).
std::string WorkerSocketDir(int pid);

// The pool's socket directory, read from a live worker's command line.
std::string SocketDir(PoolManager& pools, const std::string& pool);

// Socket files in `dir` (names ending in ".sock").
std::vector<std::string> SocketFiles(const std::string& dir);

// Shuts `pools` down, then checks that nothing is left behind: every
// worker that ever became ready (per `log`) is gone, no child is a zombie,
// and `socket_dir` holds no socket file.
void ExpectCleanShutdown(PoolManager& pools, const EventLog& log, const std::string& socket_dir);

// VmRSS of `pid` from /proc/<pid>/status, in bytes (0 if unreadable).
std::int64_t VmRssBytes(pid_t pid);

// Runs `command` with /bin/sh, stdout and stderr together; returns its exit
// status (-1 if it did not exit normally) and its output.
std::pair<int, std::string> RunCommand(const std::string& command);

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_
