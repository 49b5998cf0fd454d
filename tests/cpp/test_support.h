// Helpers shared by the C++ tests: configs, /proc checks, waiting with a
// deadline. Nothing here fakes a worker: tests run real Python processes.
#ifndef SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_
#define SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "snakepit/snakepit.h"

namespace snakepit::testing {

// A config of the given pools (JSON objects as in docs/configuration.md);
// every pool gets the test adapters' directory on its python_path and short
// timeouts. Aborts the test on a config error.
Config MakeConfig(std::vector<nlohmann::json> pools);

// Starts the pools or fails the test (ASSERT-style via the returned null).
std::unique_ptr<PoolManager> StartOrDie(const Config& config);

// Whether a process with this pid exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Live workers' pids of a pool.
std::vector<int> WorkerPids(PoolManager& pools, const std::string& pool);

}  // namespace snakepit::testing

#endif  // SNAKEPIT_TESTS_CPP_TEST_SUPPORT_H_
