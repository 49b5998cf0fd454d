#include "fake_manager.h"

#include <utility>

#include "manager/pool_manager_impl.h"

namespace snakepit::internal {

std::unique_ptr<PoolManager> PoolManagerTestPeer::Over(std::vector<std::unique_ptr<Pool>> pools) {
  auto impl = std::make_unique<PoolManager::Impl>();
  impl->pools = std::move(pools);
  return std::unique_ptr<PoolManager>(new PoolManager(std::move(impl)));
}

}  // namespace snakepit::internal
