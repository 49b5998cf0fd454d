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
#include "common/call_args.h"
#include "common/call_metadata.h"
#include "common/mutex.h"
#include "lifecycle/autoscaler.h"
#include "lifecycle/event_bus.h"
#include "lifecycle/lifecycle_manager.h"
#include "manager/metrics_endpoint.h"
#include "manager/remote_membership.h"
#include "manager/socket_dir.h"
#include "pool/pool.h"
#include "profile/template_set.h"
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
  // The remote pools' memberships (destroyed before the pools); fixed
  // after Start.
  std::vector<std::unique_ptr<internal::RemoteMembership>> memberships;
  // Each pool's worker templates (start_method), stopped once the pools are.
  std::vector<std::shared_ptr<internal::TemplateSet>> templates;
  internal::Mutex lifecycle_mu;
  std::vector<std::unique_ptr<internal::LifecycleManager>> lifecycle ABSL_GUARDED_BY(lifecycle_mu);
  // One per autoscaled pool; stopped with the lifecycle managers.
  std::vector<std::unique_ptr<internal::Autoscaler>> autoscalers ABSL_GUARDED_BY(lifecycle_mu);

  // A shutdown begun from a library callback (see PoolManager::shutdown).
  internal::Mutex shutdown_mu;
  std::thread background_shutdown ABSL_GUARDED_BY(shutdown_mu);

  // The metrics endpoint (Config::metrics), or null. Its pages read the
  // pools through the PoolManager: stopped (StopMetrics) before the
  // PoolManager lets go of this Impl, and declared last so that it goes
  // first anyway. Set once by Start, before the manager is handed out.
  std::unique_ptr<internal::MetricsEndpoint> metrics;

  ~Impl() {
    StopMetrics();
    JoinBackgroundShutdown();
    StopLifecycle();
  }

  // Joins the endpoint's threads: no page is being served after it.
  void StopMetrics() {
    if (metrics != nullptr) metrics->Stop();
  }

  // Stops the lifecycle managers, then every pool, in parallel.
  void ShutdownPools() {
    // No recycling or scaling decisions, and no workers joining, while pools drain.
    StopLifecycle();
    for (const auto& m : memberships) m->Stop();
    std::vector<std::thread> stoppers;
    for (const auto& p : pools) {
      Pool* pool = p.get();
      stoppers.emplace_back([pool] { pool->Shutdown(); });
    }
    for (std::thread& t : stoppers) t.join();
    for (const auto& t : templates) t->Shutdown();
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

  // A call's pool and its args as JSON text, or the error that refuses it
  // (unknown pool, bad command name, args that are not strict JSON,
  // metadata that CheckCallMetadata refuses).
  struct Prepared {
    Pool* pool = nullptr;
    std::string args_json;
  };
  absl::StatusOr<Prepared> Prepare(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                   const CallOptions& options) const {
    Pool* target = Find(pool);
    if (target == nullptr) return UnknownPool(pool);
    // absl::StrCat takes absl::string_view, which Debian's Abseil keeps
    // distinct from std::string_view.
    const std::string pool_name(pool), command_name(command);
    if (absl::Status name = internal::CheckCommandName(command); !name.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pool '", pool_name, "': ", name.message()));
    }
    if (absl::Status metadata = internal::CheckCallMetadata(options.metadata); !metadata.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool '", pool_name, "': command '", command_name, "': ", metadata.message()));
    }
    absl::StatusOr<std::string> args_json = internal::EncodeArgs(args);
    if (!args_json.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool '", pool_name, "': command '", command_name, "': ", args_json.status().message()));
    }
    return Prepared{target, *std::move(args_json)};
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
