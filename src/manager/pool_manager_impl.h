// PoolManager::Impl: what a PoolManager owns. Internal: shared by
// pool_manager.cc and the Inspector (a friend of PoolManager), which reads
// the pools directly.
#ifndef SNAKEPIT_SRC_MANAGER_POOL_MANAGER_IMPL_H_
#define SNAKEPIT_SRC_MANAGER_POOL_MANAGER_IMPL_H_

#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/mutex.h"
#include "lifecycle/autoscaler.h"
#include "lifecycle/event_bus.h"
#include "lifecycle/lifecycle_manager.h"
#include "manager/socket_dir.h"
#include "pool/pool.h"
#include "profile/worker_site.h"
#include "snakepit/pool_manager.h"

namespace snakepit {

using internal::Pool;

class PoolManager::Impl {
 public:
  // Destruction runs bottom-up: lifecycle managers stop before their pools,
  // pools before the socket directory goes, and the event bus last, after
  // every event has been published.
  internal::EventBus events;
  std::unique_ptr<internal::SocketDir> socket_dir;
  internal::WorkerSite site;
  std::vector<std::unique_ptr<Pool>> pools;  // configuration order; fixed after Start
  internal::Mutex lifecycle_mu;
  std::vector<std::unique_ptr<internal::LifecycleManager>> lifecycle ABSL_GUARDED_BY(lifecycle_mu);
  // One per autoscaled pool; stopped with the lifecycle managers.
  std::vector<std::unique_ptr<internal::Autoscaler>> autoscalers ABSL_GUARDED_BY(lifecycle_mu);

  // A shutdown begun from a library callback (see PoolManager::shutdown).
  internal::Mutex shutdown_mu;
  std::thread background_shutdown ABSL_GUARDED_BY(shutdown_mu);

  ~Impl() {
    JoinBackgroundShutdown();
    StopLifecycle();
  }

  // Stops the lifecycle managers, then every pool, in parallel.
  void ShutdownPools() {
    // No recycling or scaling decisions while pools drain.
    StopLifecycle();
    std::vector<std::thread> stoppers;
    for (const auto& p : pools) {
      Pool* pool = p.get();
      stoppers.emplace_back([pool] { pool->Shutdown(); });
    }
    for (std::thread& t : stoppers) t.join();
  }

  // Starts ShutdownPools() on a thread of its own, once.
  void ShutdownInBackground() {
    internal::MutexLock lock(&shutdown_mu);
    if (!background_shutdown.joinable()) background_shutdown = std::thread([this] { ShutdownPools(); });
  }

  void JoinBackgroundShutdown() {
    std::thread t;
    {
      internal::MutexLock lock(&shutdown_mu);
      t = std::move(background_shutdown);
    }
    if (t.joinable()) t.join();
  }

  void StopLifecycle() {
    std::vector<std::unique_ptr<internal::LifecycleManager>> managers;
    std::vector<std::unique_ptr<internal::Autoscaler>> scalers;
    {
      internal::MutexLock lock(&lifecycle_mu);
      managers.swap(lifecycle);
      scalers.swap(autoscalers);
    }
    scalers.clear();   // joins their threads: no resize while pools drain
    managers.clear();  // joins their threads
  }

  Pool* Find(std::string_view name) const {
    for (const auto& p : pools) {
      if (p->name() == name) return p.get();
    }
    return nullptr;
  }

  absl::Status UnknownPool(std::string_view name) const {
    std::vector<std::string> names;
    for (const auto& p : pools) names.push_back(p->name());
    return absl::NotFoundError(
        absl::StrCat("unknown pool '", std::string(name), "' (pools: ", absl::StrJoin(names, ", "), ")"));
  }
};

}  // namespace snakepit

#endif  // SNAKEPIT_SRC_MANAGER_POOL_MANAGER_IMPL_H_
