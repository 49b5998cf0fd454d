#include "snakepit/pool_manager.h"

#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/call_args.h"
#include "common/call_metadata.h"
#include "common/callback_scope.h"
#include "common/status_macros.h"
#include "manager/pool_manager_impl.h"
#include "manager/worker_package.h"
#include "profile/profiles.h"
#include "snakepit/inspector.h"
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

  std::vector<std::pair<internal::RemoteMembership*, Pool*>> remote;
  for (const PoolConfig& pool_config : config.pools) {
    const internal::WorkerSite* site = &impl->site;  // outlives the pools
    internal::EventBus* events = &impl->events;      // outlives the pools
    // The factory owns the pool's templates (start_method); forked workers
    // share them.
    auto templates = std::make_shared<internal::TemplateSet>(pool_config);
    impl->templates.push_back(templates);
    Pool::WorkerFactory factory = [pool_config, site, templates](Profile profile, int id,
                                                                 internal::Worker::ExitCallback on_exit) {
      return internal::MakeWorker(profile, pool_config, *site, id, std::move(on_exit), templates.get());
    };
    internal::RemoteMembership* membership = nullptr;
    if (pool_config.remote) {
      SNAKEPIT_ASSIGN_OR_RETURN(std::unique_ptr<internal::RemoteMembership> m,
                                internal::RemoteMembership::Create(pool_config));
      membership = m.get();
      impl->memberships.push_back(std::move(m));
      // Only the membership adds workers to a remote pool (Pool::AddWorker).
      factory = [membership](Profile, int id, internal::Worker::ExitCallback on_exit) {
        return membership->MakeWorker(id, std::move(on_exit));
      };
    }
    impl->pools.push_back(std::make_unique<Pool>(
        pool_config, std::move(factory), [events](Event event) { events->Publish(std::move(event)); },
        [events] { return events->has_subscribers(); }));
    if (membership != nullptr) remote.emplace_back(membership, impl->pools.back().get());
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
  for (auto [membership, pool] : remote) SNAKEPIT_RETURN_IF_ERROR(membership->Start(*pool));
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
    logger()->info("pool '{}' ready: {} profile, {} workers, capacity {}, transport {}", s.name, ProfileName(s.profile),
                   s.workers, s.capacity, s.transport);
  }
  std::unique_ptr<PoolManager> manager(new PoolManager(std::move(impl)));
  if (config.metrics) SNAKEPIT_RETURN_IF_ERROR(manager->StartMetrics(*config.metrics));
  return manager;
}

absl::Status PoolManager::StartMetrics(const MetricsConfig& config) {
  // One inspector for the endpoint's life: each page's window runs from
  // the previous request of any page.
  auto inspector = std::make_shared<Inspector>(*this);
  internal::MetricsEndpoint::Pages pages{
      .prometheus = [inspector] { return inspector->Inspect().ToPrometheus(); },
      .text = [inspector] { return inspector->Inspect().ToText(); },
      .json =
          [inspector] {
            return inspector->Inspect().ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
          },
  };
  SNAKEPIT_ASSIGN_OR_RETURN(impl_->metrics, internal::MetricsEndpoint::Start(config, std::move(pages)));
  return absl::OkStatus();
}

std::string PoolManager::metrics_url() const {
  return impl_->metrics != nullptr ? impl_->metrics->url() + "/metrics" : "";
}

PoolManager::PoolManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PoolManager::~PoolManager() {
  if (impl_ == nullptr) return;
  // Its pages read this object: stopped here, on any thread (its threads
  // are never a library callback's).
  impl_->StopMetrics();
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
                                CallOptions options, Callback done) {
  absl::StatusOr<Impl::Prepared> call = impl_->Prepare(pool, command, args, options);
  if (!call.ok()) {
    done(call.status());
    return;
  }
  call->pool->Submit(std::string(command), std::move(call->args_json), std::move(options), std::move(done));
}

StreamReader PoolManager::execute_stream(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                         CallOptions options) {
  absl::StatusOr<Impl::Prepared> call = impl_->Prepare(pool, command, args, options);
  if (!call.ok()) {
    // A reader of the error alone: its first Next() returns it.
    auto failed = std::make_shared<internal::StreamChannel>(1, std::make_shared<internal::StreamGauges>());
    failed->Finish(call.status());
    return StreamReader(std::move(failed));
  }
  std::shared_ptr<internal::StreamChannel> channel = call->pool->NewStream(options);
  call->pool->Submit(
      std::string(command), std::move(call->args_json), std::move(options),
      [channel](absl::StatusOr<Reply> end) { channel->Finish(end.status()); }, channel);
  return StreamReader(std::move(channel));
}

void PoolManager::execute_stream(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                 CallOptions options, ChunkCallback on_chunk, StreamDone done) {
  absl::StatusOr<Impl::Prepared> call = impl_->Prepare(pool, command, args, options);
  if (!call.ok()) {
    done(call.status());
    return;
  }
  std::shared_ptr<internal::StreamChannel> channel =
      call->pool->NewStream(options, std::move(on_chunk), std::move(done));
  call->pool->Submit(
      std::string(command), std::move(call->args_json), std::move(options),
      [channel](absl::StatusOr<Reply> end) { channel->Finish(end.status()); }, channel);
}

std::future<absl::StatusOr<nlohmann::json>> PoolManager::execute_async(std::string_view pool, std::string_view command,
                                                                       const nlohmann::json& args,
                                                                       CallOptions options) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<nlohmann::json>>>();
  auto future = promise->get_future();
  execute_async(pool, command, args, std::move(options), [promise](absl::StatusOr<Reply> reply) {
    if (reply.ok()) {
      promise->set_value(std::move(reply->result));
    } else {
      promise->set_value(std::move(reply).status());
    }
  });
  return future;
}

absl::StatusOr<Reply> PoolManager::call(std::string_view pool, std::string_view command, const nlohmann::json& args,
                                        CallOptions options) {
  absl::StatusOr<Impl::Prepared> call = impl_->Prepare(pool, command, args, options);
  if (!call.ok()) return call.status();
  // No promise: the call's completion, on whichever thread finishes the
  // call, fills a waiter on this thread's stack (Pool::CallAndWait). The
  // pool completes every call by its deadline, so the wait is bounded.
  return call->pool->CallAndWait(std::string(command), std::move(call->args_json), std::move(options));
}

absl::StatusOr<nlohmann::json> PoolManager::execute(std::string_view pool, std::string_view command,
                                                    const nlohmann::json& args, CallOptions options) {
  SNAKEPIT_ASSIGN_OR_RETURN(Reply reply, call(pool, command, args, std::move(options)));
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
    impl_->StopMetrics();
    impl_->ShutdownInBackground();
    return;
  }
  impl_->StopMetrics();
  impl_->JoinBackgroundShutdown();
  impl_->ShutdownPools();
}

}  // namespace snakepit
