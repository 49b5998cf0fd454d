// Starts one process worker from the installed package, with no path set by
// hand, and prints the PYTHONPATH the worker sees, so the driver script can
// check it points into the (relocated) installed tree.
#include <cstdio>

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
  absl::StatusOr<nlohmann::json> reply = (*pools)->execute("default", "getenv", {{"name", "PYTHONPATH"}});
  if (!reply.ok()) {
    std::fprintf(stderr, "execute failed: %s\n", reply.status().ToString().c_str());
    return 1;
  }
  if (!reply->is_string()) {
    std::fprintf(stderr, "worker has no PYTHONPATH: %s\n", reply->dump().c_str());
    return 1;
  }
  std::printf("PYTHONPATH=%s\n", reply->get<std::string>().c_str());
  return 0;
}
