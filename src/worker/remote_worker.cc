#include "worker/remote_worker.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "process/child_process.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// Waits for an asynchronous RpcClient answer. The callback may run after a
// timed-out wait, so the answer lives in shared state.
template <typename T>
struct Answer {
  absl::Notification done;
  T value;
};

template <typename T>
T Await(const std::shared_ptr<Answer<T>>& answer, absl::Time deadline, T timed_out) {
  // The RPC itself ends by `deadline`; the second is slack for its callback.
  if (!answer->done.WaitForNotificationWithDeadline(deadline + absl::Seconds(1))) return timed_out;
  return answer->value;
}

}  // namespace

RemoteWorker::RemoteWorker(RemoteWorkerSpec spec, ExitCallback on_exit)
    : spec_(std::move(spec)), on_exit_(std::move(on_exit)) {
  metadata_.pool = spec_.pool;
  metadata_.id = spec_.id;
  metadata_.label = spec_.label();
  metadata_.address = spec_.endpoint.target;
}

RemoteWorker::~RemoteWorker() {
  Stop(absl::ZeroDuration());
  std::thread exit_thread;
  std::shared_ptr<RpcClient> rpc;
  {
    MutexLock lock(&mu_);
    exit_thread = std::move(exit_thread_);
    rpc = std::move(rpc_);
  }
  if (exit_thread.joinable()) exit_thread.join();
  rpc.reset();  // waits for the last RPC callback, which may use `this`
}

absl::Status RemoteWorker::Start(absl::Time deadline) {
  auto rpc = std::make_shared<RpcClient>(spec_.endpoint, spec_.label(), spec_.max_message_bytes);
  const std::string where =
      absl::StrCat("pool '", spec_.pool, "': remote worker ", spec_.label(), " at ", spec_.endpoint.target, ": ");
  auto health = std::make_shared<Answer<absl::Status>>();
  rpc->HealthAsync(deadline, [health](absl::Status status) {
    health->value = std::move(status);
    health->done.Notify();
  });
  absl::Status healthy = Await(health, deadline, absl::DeadlineExceededError("no health answer"));
  if (!healthy.ok()) return absl::Status(healthy.code(), absl::StrCat(where, healthy.message()));
  auto stats = std::make_shared<Answer<absl::StatusOr<nlohmann::json>>>();
  rpc->StatsAsync(deadline, [stats](absl::StatusOr<nlohmann::json> answer) {
    stats->value = std::move(answer);
    stats->done.Notify();
  });
  absl::StatusOr<nlohmann::json> report =
      Await(stats, deadline, absl::StatusOr<nlohmann::json>(absl::DeadlineExceededError("no Stats answer")));
  if (!report.ok()) return absl::Status(report.status().code(), absl::StrCat(where, report.status().message()));
  const int capacity = report->value("max_concurrency", 0);
  if (capacity < 1) return absl::FailedPreconditionError(absl::StrCat(where, "Stats reports no execution slots"));
  capacity_.store(capacity);
  MutexLock lock(&mu_);
  if (exited_.load()) return absl::UnavailableError(absl::StrCat(where, "stopped during its start"));
  metadata_.python_version = report->value("python_version", "");
  metadata_.transport = "grpc";
  metadata_.free_threaded = report->value("free_threaded_build", false);
  metadata_.gil_enabled = report->value("gil_enabled", true);
  metadata_.profile = report->value("mode", "process") == "thread" ? Profile::kThread : Profile::kProcess;
  metadata_.started_at = absl::Now();
  rpc_ = std::move(rpc);
  return absl::OkStatus();
}

void RemoteWorker::Stop(absl::Duration) { Exit("stopped by the pool (the remote server goes on)"); }

void RemoteWorker::Kill() {
  if (draining_.load()) {
    Exit("left the pool: it drains (SIGTERM)", /*abort_calls=*/false);
  } else {
    Exit("ejected (failed health checks or unreachable)");
  }
}

void RemoteWorker::Exit(const std::string& reason, bool abort_calls) {
  if (exited_.exchange(true)) return;
  const std::string detail = absl::StrCat("remote worker at ", spec_.endpoint.target, " ", reason);
  std::shared_ptr<RpcClient> rpc = Rpc();
  // Calls left running end with their replies, or when the server closes;
  // the destructor aborts whatever is left.
  if (rpc != nullptr && abort_calls) rpc->Abort(detail);
  MutexLock lock(&mu_);
  // Never inline: Kill() runs under the pool's lock, which the callback takes.
  exit_thread_ = std::thread([this, detail] {
    ExitInfo info;
    info.detail = detail;
    if (on_exit_) on_exit_(info);
  });
}

void RemoteWorker::Execute(WorkerCall call, Done done) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || exited_.load()) {
    done(NotConnected());
    return;
  }
  rpc->Execute(std::move(call), [this, done = std::move(done)](absl::StatusOr<Reply> result) {
    EjectIfUnreachable(result.status());
    done(std::move(result));
  });
}

std::shared_ptr<StreamControl> RemoteWorker::ExecuteStream(WorkerCall call, StreamHandlers handlers) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || exited_.load()) {
    handlers.on_end(NotConnected());
    return nullptr;
  }
  handlers.on_end = [this, on_end = std::move(handlers.on_end)](absl::StatusOr<Reply> result) {
    EjectIfUnreachable(result.status());
    on_end(std::move(result));
  };
  return rpc->ExecuteStream(std::move(call), std::move(handlers));
}

void RemoteWorker::Cancel(std::uint64_t call_id, CancelReason reason) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc != nullptr && !exited_.load()) rpc->Cancel(call_id, reason);
}

absl::Status RemoteWorker::NotConnected() const {
  return absl::UnavailableError(absl::StrCat(spec_.label(), ": remote worker is not connected"));
}

void RemoteWorker::EjectIfUnreachable(const absl::Status& status) {
  // The transport failed (the pod died or drains, the network broke):
  // eject before the router sees the failure, so that it retries an
  // idempotent call elsewhere and routes nothing more here.
  if (absl::IsUnavailable(status) && !exited_.load()) {
    logger()->warn("{}: ejecting {}: {}", spec_.label(), spec_.endpoint.target, std::string(status.message()));
    Exit(absl::StrCat("unreachable: ", status.message()));
  }
}

void RemoteWorker::CheckHealth(absl::Time deadline, std::function<void(absl::Status)> done) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || exited_.load()) {
    done(NotConnected());
    return;
  }
  rpc->HealthAsync(deadline, [this, done = std::move(done)](absl::Status status) {
    const auto state = status.GetPayload(kHealthStatePayload);
    if (state && *state == "STOPPING") draining_.store(true);
    done(std::move(status));
  });
}

void RemoteWorker::Diagnostics(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || exited_.load()) {
    done(NotConnected());
    return;
  }
  rpc->StatsAsync(deadline, std::move(done));
}

std::shared_ptr<RpcClient> RemoteWorker::Rpc() const {
  MutexLock lock(&mu_);
  return rpc_;
}

WorkerMetadata RemoteWorker::metadata() const {
  MutexLock lock(&mu_);
  return metadata_;
}

}  // namespace snakepit::internal
