#include "manager/remote_membership.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "snakepit/logging.h"
#include "worker/remote_credentials.h"
#include "worker/remote_resolver.h"
#include "worker/remote_worker.h"

namespace snakepit::internal {
namespace {

// The address AddWorker is adding on this thread: MakeWorker runs inside
// it, on the same thread, and reports the id it was given.
struct Adding {
  const std::string* address = nullptr;
  int id = -1;
};
thread_local Adding t_adding;

// HTTP/2 keepalive of a remote worker's channel: a host that vanishes
// without a word (no RST ever comes) fails its calls within twice this,
// whatever the pool's state (a draining worker gets no health probes).
// The workers accept pings this often (worker_server.cc, server.py).
constexpr absl::Duration kKeepalive = absl::Milliseconds(1000);

// The longest a resolution may take; a round waits for it.
constexpr absl::Duration kMaxResolveTime = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteMembership>> RemoteMembership::Create(const PoolConfig& config) {
  SNAKEPIT_ASSIGN_OR_RETURN(RemoteTarget target, ParseRemoteTarget(config.remote->target));
  SNAKEPIT_ASSIGN_OR_RETURN(RpcEndpoint credentials, RemoteCredentials(config));
  return std::unique_ptr<RemoteMembership>(new RemoteMembership(config, std::move(target), std::move(credentials)));
}

RemoteMembership::RemoteMembership(const PoolConfig& config, RemoteTarget target, RpcEndpoint credentials)
    : config_(config), target_(std::move(target)), credentials_(std::move(credentials)) {}

RemoteMembership::~RemoteMembership() { Stop(); }

std::unique_ptr<Worker> RemoteMembership::MakeWorker(int id, Worker::ExitCallback on_exit) {
  RemoteWorkerSpec spec;
  spec.pool = config_.name;
  spec.id = id;
  spec.endpoint = credentials_;
  spec.endpoint.keepalive = kKeepalive;
  spec.endpoint.target = t_adding.address != nullptr ? *t_adding.address : "";
  spec.max_message_bytes = config_.max_message_bytes;
  t_adding.id = id;
  return std::make_unique<RemoteWorker>(std::move(spec), std::move(on_exit));
}

absl::Status RemoteMembership::Start(Pool& pool) {
  pool_ = &pool;
  const absl::Status first = Round(absl::Now());
  const std::string where = absl::StrCat("pool '", config_.name, "': remote target \"", config_.remote->target, "\"");
  if (resolved_.empty()) {
    return absl::UnavailableError(
        absl::StrCat(where, resolve_error_.empty() ? " resolved to no address" : absl::StrCat(": ", resolve_error_)));
  }
  const bool any = std::any_of(members_.begin(), members_.end(), [](const auto& m) { return m.second.worker_id >= 0; });
  if (!any) {
    return absl::UnavailableError(absl::StrCat(where, ": none of its ", resolved_.size(),
                                               " address(es) could be added; the first error: ", first.message()));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void RemoteMembership::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RemoteMembership::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithDeadline(Condition(&stop), NextRound())) return;
    }
    (void)Round(absl::Now());
  }
}

absl::Time RemoteMembership::NextRound() const {
  absl::Time next = next_resolve_;
  for (const std::string& address : resolved_) {
    const auto it = members_.find(address);
    if (it != members_.end() && it->second.worker_id < 0) next = std::min(next, it->second.next_try);
  }
  // A worker's ejection is seen at the next round: at least every second.
  return std::min(next, absl::Now() + absl::Seconds(1));
}

absl::Status RemoteMembership::Round(absl::Time now) {
  const RemoteConfig& remote = *config_.remote;
  const absl::Duration initial = absl::FromChrono(remote.eject_backoff_initial);
  const absl::Duration max = absl::FromChrono(remote.eject_backoff_max);
  if (now >= next_resolve_) {
    next_resolve_ = now + absl::FromChrono(remote.resolve_interval);
    absl::StatusOr<std::vector<std::string>> found =
        ResolveRemoteTarget(target_, now + std::min(kMaxResolveTime, absl::FromChrono(remote.resolve_interval)));
    if (found.ok()) {
      if (*found != resolved_) {
        logger()->info("pool '{}': {} resolves to {}", config_.name, remote.target, absl::StrJoin(*found, ", "));
      }
      resolved_ = *std::move(found);
      resolve_error_.clear();
    } else if (resolve_error_ != found.status().message()) {
      resolve_error_ = std::string(found.status().message());
      logger()->warn("pool '{}': {} (keeping the {} address(es) known)", config_.name, resolve_error_,
                     resolved_.size());
    }
  }
  std::map<int, WorkerState> live;
  for (const WorkerView& w : pool_->Workers()) live.emplace(w.id, w.state);
  const std::set<std::string> wanted(resolved_.begin(), resolved_.end());
  std::vector<std::string> to_add;
  for (auto it = members_.begin(); it != members_.end();) {
    Member& m = it->second;
    const auto state = live.find(m.worker_id);
    const bool alive = m.worker_id >= 0 && state != live.end() &&
                       (state->second == WorkerState::kReady || state->second == WorkerState::kStarting);
    if (m.worker_id >= 0 && !alive) {  // ejected since the last round
      m.worker_id = -1;
      m.next_try = now + m.backoff;
      logger()->warn("pool '{}': {} was ejected; readmitting it in {}", config_.name, it->first,
                     absl::FormatDuration(m.backoff));
      m.backoff = std::min(m.backoff * 2, max);
    } else if (alive && now - m.live_since >= max) {
      m.backoff = initial;
    }
    if (!wanted.contains(it->first)) {
      if (m.worker_id >= 0) pool_->RetireWorker(m.worker_id, "endpoint_removed");
      it = members_.erase(it);
      continue;
    }
    ++it;
  }
  for (const std::string& address : resolved_) {
    auto [it, fresh] = members_.try_emplace(address);
    if (fresh) it->second.backoff = initial;
    if (it->second.worker_id < 0 && now >= it->second.next_try) to_add.push_back(address);
  }
  return Add(to_add, now);
}

absl::Status RemoteMembership::Add(const std::vector<std::string>& addresses, absl::Time now) {
  std::vector<absl::Status> results(addresses.size());
  std::vector<int> ids(addresses.size(), -1);
  std::vector<std::thread> adders;
  for (size_t i = 0; i < addresses.size(); ++i) {
    adders.emplace_back([&, i] {
      t_adding = Adding{&addresses[i], -1};
      results[i] = pool_->AddWorker();
      ids[i] = t_adding.id;
      t_adding = Adding{};
    });
  }
  for (std::thread& t : adders) t.join();
  absl::Status first = absl::OkStatus();
  for (size_t i = 0; i < addresses.size(); ++i) {
    Member& m = members_[addresses[i]];
    if (results[i].ok()) {
      m.worker_id = ids[i];
      m.live_since = now;
      continue;
    }
    if (first.ok()) first = results[i];
    m.next_try = absl::Now() + m.backoff;
    logger()->warn("pool '{}': could not add {} (retrying in {}): {}", config_.name, addresses[i],
                   absl::FormatDuration(m.backoff), std::string(results[i].message()));
    m.backoff = std::min(m.backoff * 2, absl::FromChrono(config_.remote->eject_backoff_max));
  }
  return first;
}

}  // namespace snakepit::internal
