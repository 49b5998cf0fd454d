// Starts one worker with the default transport (auto: native when the
// native module imports, else grpcio) and prints which one serves it, plus
// the parent's build type, which snakepit must not have changed.
#include <cstdio>

#include "snakepit/snakepit.h"

int main() {
  snakepit::PoolConfig pool;
  pool.name = "probe";
  pool.pool_size = 1;
  pool.adapter = "transport_probe:TransportProbe";
  pool.python_path = {PROBE_DIR};
  snakepit::Config config;
  config.pools.push_back(pool);

  auto pools = snakepit::PoolManager::Start(config);
  if (!pools.ok()) {
    std::fprintf(stderr, "start failed: %s\n", pools.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<nlohmann::json> reply = (*pools)->execute("probe", "transport");
  if (!reply.ok()) {
    std::fprintf(stderr, "call failed: %s\n", reply.status().ToString().c_str());
    return 1;
  }
  std::printf("transport: %s\n", reply->dump().c_str());
  return 0;
}
