// A PoolManager over pools the test made (fake_pool.h: fake workers, a
// fake clock), so that the public API's own path, from execute() to the
// WorkerCall a worker receives and back, runs without Python.
#ifndef SNAKEPIT_TESTS_CPP_FAKE_MANAGER_H_
#define SNAKEPIT_TESTS_CPP_FAKE_MANAGER_H_

#include <memory>
#include <vector>

#include "pool/pool.h"
#include "snakepit/pool_manager.h"

namespace snakepit::internal {

// Builds the manager as PoolManager::Start would once its pools started
// (no lifecycle manager, socket folder or metrics). PoolManager's private
// constructor is open to this class only (its friend).
class PoolManagerTestPeer {
 public:
  // `pools` are started already; the manager owns and shuts them down.
  static std::unique_ptr<PoolManager> Over(std::vector<std::unique_ptr<Pool>> pools);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_TESTS_CPP_FAKE_MANAGER_H_
