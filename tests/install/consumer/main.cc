// Starts one process worker from the installed package, with no path set by
// hand, and prints the traceback of a Python exception raised by the default
// adapter, so the driver script can check that the worker imported the
// package from the (relocated) installed tree.
#include <cstdio>
#include <optional>

#include "snakepit/snakepit.h"

int main() {
  snakepit::PoolConfig pool;
  pool.name = "default";
  pool.pool_size = 1;
  snakepit::Config config;
  config.pools.push_back(pool);

  auto pools = snakepit::PoolManager::Start(config);
  if (!pools.ok()) {
    std::fprintf(stderr, "start failed: %s\n", pools.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<nlohmann::json> reply = (*pools)->execute("default", "raise_error");
  std::optional<snakepit::PythonError> error = snakepit::GetPythonError(reply.status());
  if (!error) {
    std::fprintf(stderr, "expected a Python exception, got %s\n", reply.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", error->traceback.c_str());
  return 0;
}
