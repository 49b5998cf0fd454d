#include "snakepit/pool_manager.h"

#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/call_args.h"
#include "common/callback_scope.h"
#include "common/status_macros.h"
#include "manager/pool_manager_impl.h"
#include "manager/worker_package.h"
#include "profile/profiles.h"
#include "snakepit/logging.h"
#include "worker/worker_endpoint.h"

namespace snakepit {

using internal::Pool;

absl::StatusOr<std::unique_ptr<PoolManager>> PoolManager::Start(const Config& config, EventHandler on_event) {
  SNAKEPIT_RETURN_IF_ERROR(config.Validate());
  for (const PoolConfig& pool_config : config.pools) SNAKEPIT_RETURN_IF_ERROR(internal::CheckTlsFiles(pool_config));
  auto impl = std::make_unique<Impl>();
  if (on_event) impl->events.Subscribe(std::move(on_event));
  SNAKEPIT_ASSIGN_OR_RETURN(impl->site.worker_package, internal::FindWorkerPackage());
  SNAKEPIT_ASSIGN_OR_RETURN(impl->socket_dir, internal::SocketDir::Create(config));
  impl->site.socket_dir = impl->socket_dir->path();
  impl->site.default_python = internal::DefaultPython();

  for (const PoolConfig& pool_config : config.pools) {
    const internal::WorkerSite* site = &impl->site;  // outlives the pools
    internal::EventBus* events = &impl->events;      // outlives the pools
    impl->pools.push_back(std::make_unique<Pool>(
        pool_config,
        [pool_config, site](Profile profile, int id, internal::Worker::ExitCallback on_exit) {
          return internal::MakeWorker(profile, pool_config, *site, id, std::move(on_exit));
        },
        [events](Event event) { events->Publish(std::move(event)); }, [events] { return events->has_subscribers(); }));
  }
  // Pools start in parallel; each starts its own workers in batches.
  std::vector<absl::Status> results(impl->pools.size());
  std::vector<std::thread> starters;
  for (size_t i = 0; i < impl->pools.size(); ++i) {
    starters.emplace_back([&, i] { results[i] = impl->pools[i]->Start(); });
  }
  for (std::thread& t : starters) t.join();
  for (const absl::Status& status : results) {
    if (!status.ok()) return status;  // ~Impl stops the pools that did start
  }
  {
    internal::MutexLock lock(&impl->lifecycle_mu);
    for (const auto& pool : impl->pools) {
      impl->lifecycle.push_back(std::make_unique<internal::LifecycleManager>(*pool, pool->clock()));
      if (pool->config().autoscale) {
        impl->autoscalers.push_back(std::make_unique<internal::Autoscaler>(*pool, pool->clock()));
      }
    }
  }
  for (const auto& pool : impl->pools) {
    const PoolStats s = pool->Stats();
    logger()->info("pool '{}' ready: {} profile, {} workers, capacity {}", s.name, ProfileName(s.profile), s.workers,
                   s.capacity);
  }
  return std::unique_ptr<PoolManager>(new PoolManager(std::move(impl)));
}

PoolManager::PoolManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PoolManager::~PoolManager() {
  if (impl_ == nullptr) return;
  if (internal::LibraryCallbackScope::Active()) {
    // Destroying the pools waits for this very thread (a gRPC callback, a
    // timer or the event thread) to leave the library: that waiting, and
    // the destruction, happen on a thread of their own once it has.
    logger()->warn(
        "snakepit: PoolManager destroyed inside a completion callback or event handler; its pools shut down on a "
        "thread of their own once the callback returns");
    std::thread([impl = std::move(impl_)]() mutable {
      impl->JoinBackgroundShutdown();
      impl->ShutdownPools();
      impl.reset();
    }).detach();
    return;
  }
  shutdown();
}

void PoolManager::execute_async(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                const CallOptions& options, Callback done) {
  Pool* target = impl_->Find(pool);
  if (target == nullptr) {
    done(impl_->UnknownPool(pool));
    return;
  }
  // absl::StrCat takes absl::string_view, which Debian's Abseil keeps
  // distinct from std::string_view.
  const std::string pool_name(pool), command_name(command);
  if (absl::Status name = internal::CheckCommandName(command); !name.ok()) {
    done(absl::InvalidArgumentError(absl::StrCat("pool '", pool_name, "': ", name.message())));
    return;
  }
  absl::StatusOr<std::string> args_json = internal::EncodeArgs(args);
  if (!args_json.ok()) {
    done(absl::InvalidArgumentError(
        absl::StrCat("pool '", pool_name, "': command '", command_name, "': ", args_json.status().message())));
    return;
  }
  target->Submit(command_name, *std::move(args_json), options, std::move(done));
}

std::future<absl::StatusOr<nlohmann::json>> PoolManager::execute_async(std::string_view pool, std::string_view command,
                                                                       const nlohmann::json& args,
                                                                       const CallOptions& options) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<nlohmann::json>>>();
  auto future = promise->get_future();
  execute_async(pool, command, args, options, [promise](absl::StatusOr<Reply> reply) {
    if (reply.ok()) {
      promise->set_value(std::move(reply->result));
    } else {
      promise->set_value(std::move(reply).status());
    }
  });
  return future;
}

absl::StatusOr<Reply> PoolManager::call(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                        const CallOptions& options) {
  // Shared, not on this stack: set_value may still be running when get()
  // returns.
  auto promise = std::make_shared<std::promise<absl::StatusOr<Reply>>>();
  auto future = promise->get_future();
  execute_async(pool, command, args, options,
                [promise](absl::StatusOr<Reply> reply) { promise->set_value(std::move(reply)); });
  // The pool completes every call by its deadline, so this wait is bounded.
  return future.get();
}

absl::StatusOr<nlohmann::json> PoolManager::execute(std::string_view pool, std::string_view command,
                                                    const nlohmann::json& args, const CallOptions& options) {
  SNAKEPIT_ASSIGN_OR_RETURN(Reply reply, call(pool, command, args, options));
  return std::move(reply.result);
}

std::vector<std::string> PoolManager::list_pools() const {
  std::vector<std::string> names;
  for (const auto& p : impl_->pools) names.push_back(p->name());
  return names;
}

absl::StatusOr<PoolStats> PoolManager::stats(std::string_view pool) const {
  Pool* target = impl_->Find(pool);
  if (target == nullptr) return impl_->UnknownPool(pool);
  return target->Stats();
}

absl::Status PoolManager::recycle_worker(std::string_view pool, int worker_id) {
  Pool* target = impl_->Find(pool);
  if (target == nullptr) return impl_->UnknownPool(pool);
  return target->Recycle(worker_id, "manual");
}

absl::Status PoolManager::resize(std::string_view pool, int workers, std::chrono::milliseconds timeout) {
  Pool* target = impl_->Find(pool);
  if (target == nullptr) return impl_->UnknownPool(pool);
  const PoolStats before = target->Stats();
  SNAKEPIT_RETURN_IF_ERROR(target->Resize(workers, "manual", ""));
  if (internal::LibraryCallbackScope::Active()) return absl::OkStatus();  // the pool's threads wait for this one
  const PoolConfig& config = target->config();
  if (timeout.count() <= 0) {
    timeout = workers >= before.target_workers ? config.startup_timeout : config.drain_timeout + config.kill_grace;
  }
  if (target->AwaitTargetSize(target->clock().Now() + absl::FromChrono(timeout))) return absl::OkStatus();
  const PoolStats after = target->Stats();
  std::string why = after.last_start_error.empty() ? "" : absl::StrCat("; last start error: ", after.last_start_error);
  return absl::DeadlineExceededError(
      absl::StrCat("pool '", after.name, "': resize to ", workers, " workers not done in ", timeout.count(), " ms (",
                   after.current_workers, " workers in place, target ", after.target_workers,
                   "); the pool keeps moving toward its target", why));
}

SubscriptionId PoolManager::subscribe(EventHandler handler) { return impl_->events.Subscribe(std::move(handler)); }

bool PoolManager::unsubscribe(SubscriptionId id) { return impl_->events.Unsubscribe(id); }

void PoolManager::shutdown() {
  if (internal::LibraryCallbackScope::Active()) {
    // Waiting here would wait for this thread itself: shut down on a thread
    // of its own instead (the pools close at once), joined by the next
    // shutdown() or the destructor.
    logger()->warn(
        "snakepit: PoolManager::shutdown() called inside a completion callback or event handler; the pools shut "
        "down on a thread of their own once the callback returns");
    impl_->ShutdownInBackground();
    return;
  }
  impl_->JoinBackgroundShutdown();
  impl_->ShutdownPools();
}

}  // namespace snakepit
