#include "worker/python_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "snakepit/logging.h"
#include "worker/ready_record.h"
#include "worker/worker_endpoint.h"
#include "worker/worker_template.h"

namespace snakepit::internal {
namespace {

// Child fd numbers of the two pipes (docs/worker-protocol.md).
constexpr int kLifelineFd = 3;
constexpr int kReadyFd = 4;
constexpr int kStacksFd = 5;
constexpr int kShmFd = 6;
// The worker's own default limit (cli.py) when the pool sets none.
constexpr std::int64_t kDefaultMaxMessage = std::int64_t{128} << 20;
// Once a stack dump has begun, a pause this long ends it (faulthandler
// writes it in one go from its signal handler).
constexpr absl::Duration kStacksQuiet = absl::Milliseconds(100);

std::string DescribePythonError(const nlohmann::json& error) {
  const std::string type = error.value("type", "Error");
  const std::string message = error.value("message", "");
  const std::string traceback = error.value("traceback", "");
  return absl::StrCat(type, ": ", message, traceback.empty() ? "" : "\n", traceback);
}

}  // namespace

PythonWorker::PythonWorker(WorkerSpec spec, ExitCallback on_exit)
    : spec_(std::move(spec)), on_exit_(std::move(on_exit)) {
  metadata_.pool = spec_.pool;
  metadata_.id = spec_.id;
  metadata_.profile = spec_.profile;
  metadata_.label = spec_.label();
  metadata_.python = spec_.python;
}

PythonWorker::~PythonWorker() { Stop(absl::ZeroDuration()); }

absl::Status PythonWorker::Start(absl::Time deadline) {
  absl::Status status = Launch(deadline);
  if (!status.ok()) return StartFailure(std::move(status));
  return absl::OkStatus();
}

absl::Status PythonWorker::Launch(absl::Time deadline) {
  SNAKEPIT_ASSIGN_OR_RETURN(std::string token, spec_.new_token());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe lifeline, MakePipe());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe ready, MakePipe());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe output, MakePipe());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe stacks, MakePipe());

  SpawnRequest request;
  request.executable = spec_.python;
  request.argv = WorkerArgv(spec_, kLifelineFd, kReadyFd, kStacksFd);
  request.env = spec_.env;
  request.env.push_back(absl::StrCat(kWorkerTokenEnv, "=", token));  // never argv
  request.fds = {{lifeline.read.get(), kLifelineFd}, {ready.write.get(), kReadyFd}, {stacks.write.get(), kStacksFd}};
  request.output_fd = output.write.get();
  std::string shm_note;
  std::unique_ptr<ShmChannel> shm_channel = OfferShm(&shm_note);
  std::vector<int> passed = {output.write.get(), lifeline.read.get(), ready.write.get(), stacks.write.get()};
  if (shm_channel != nullptr) {
    request.fds.push_back({shm_channel->fd(), kShmFd});
    passed.push_back(shm_channel->fd());  // a template places it at kShmFd too
    request.argv.insert(request.argv.end(),
                        {"--shm-fd", std::to_string(kShmFd), "--shm-ring-bytes", std::to_string(spec_.shm_ring_bytes)});
  }
  SNAKEPIT_ASSIGN_OR_RETURN(child_, CreateProcess(request, token, passed, deadline));
  // Our copies of the child's ends must close, or EOF would never come.
  lifeline.read.reset();
  ready.write.reset();
  output.write.reset();
  stacks.write.reset();
  lifeline_ = std::move(lifeline.write);
  stacks_ = std::move(stacks.read);
  ::fcntl(stacks_.get(), F_SETFL, ::fcntl(stacks_.get(), F_GETFL) | O_NONBLOCK);
  {
    MutexLock lock(&mu_);
    metadata_.pid = child_->pid();
    metadata_.started_at = absl::Now();
  }
  watcher_ = std::make_unique<OutputWatcher>(child_.get(), std::move(output.read), spec_.label(),
                                             [this](const ExitInfo& info) { OnExit(info); });

  SNAKEPIT_ASSIGN_OR_RETURN(std::optional<nlohmann::json> record, ReadReadyRecord(ready.read.get(), deadline));
  if (!record) {
    // The process died before it could say anything: its output says why.
    std::optional<ExitInfo> info = watcher_->WaitForExit(absl::Now() + absl::Seconds(2));
    return absl::FailedPreconditionError(absl::StrCat("worker exited (", info ? info->ToString() : "still running",
                                                      ") before it was ready; ", "its output:\n", watcher_->Tail()));
  }
  if (!record->value("ok", false)) {
    return absl::FailedPreconditionError(DescribePythonError(record->value("error", nlohmann::json::object())));
  }
  {
    MutexLock lock(&mu_);
    metadata_.python_version = record->value("python", "");
    metadata_.free_threaded = record->value("free_threaded", false);
    metadata_.gil_enabled = record->value("gil_enabled", true);
    metadata_.address = record->value("listen", "");
    const nlohmann::json libraries = record->value("loaded_libraries", nlohmann::json::object());
    if (libraries.is_object()) {
      for (const auto& [name, version] : libraries.items()) {
        metadata_.loaded_libraries[name] = version.is_string() ? version.get<std::string>() : "";
      }
    }
  }
  SNAKEPIT_ASSIGN_OR_RETURN(const RpcEndpoint endpoint, WorkerEndpoint(spec_, *record, std::move(token)));
  auto rpc = std::make_shared<RpcClient>(endpoint, spec_.label(), spec_.max_message_bytes);
  SNAKEPIT_RETURN_IF_ERROR(rpc->WaitConnected(deadline));
  // The worker says whether it took the shared memory ("data_plane").
  std::shared_ptr<ShmClient> shm;
  std::string transport = record->value("transport", "");
  if (shm_channel != nullptr && record->value("data_plane", "") == "shm") {
    shm = std::make_shared<ShmClient>(std::move(shm_channel), spec_.label(), spec_.max_message_bytes, spec_.reply_poll);
    transport = "shm";
  } else if (shm_channel != nullptr) {
    shm_note = record->value("data_plane_error", "");
    if (shm_note.empty()) shm_note = "the worker did not take the shared memory it was offered";
  }
  MutexLock lock(&mu_);
  metadata_.transport = std::move(transport);
  metadata_.transport_note = std::move(shm_note);
  shm_ = std::move(shm);
  rpc_ = std::move(rpc);
  if (watcher_->exited()) return absl::UnavailableError("worker exited right after it became ready");
  return absl::OkStatus();
}

std::unique_ptr<ShmChannel> PythonWorker::OfferShm(std::string* why_not) const {
  if (spec_.transport != WorkerTransport::kShm && spec_.transport != WorkerTransport::kAuto) return nullptr;
  const std::size_t max_payload =
      static_cast<std::size_t>(spec_.max_message_bytes > 0 ? spec_.max_message_bytes : kDefaultMaxMessage);
  absl::StatusOr<ShmRegion> region =
      ShmRegion::Create(absl::StrCat("snakepit-", spec_.label()), ShmChannel::RegionSize(spec_.shm_ring_bytes));
  absl::StatusOr<std::unique_ptr<ShmChannel>> channel =
      region.ok() ? ShmChannel::CreateHost(*std::move(region), spec_.shm_ring_bytes, max_payload)
                  : absl::StatusOr<std::unique_ptr<ShmChannel>>(region.status());
  if (!channel.ok()) {
    *why_not = std::string(channel.status().message());
    return nullptr;
  }
  return *std::move(channel);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> PythonWorker::CreateProcess(const SpawnRequest& request,
                                                                          const std::string& token,
                                                                          const std::vector<int>& fds,
                                                                          absl::Time deadline) {
  if (spec_.fork_from != nullptr) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> forked = spec_.fork_from->Fork(request.argv, token, fds, deadline);
    if (forked.ok()) {
      MutexLock lock(&mu_);
      metadata_.forked = true;
      metadata_.template_pid = spec_.fork_from->pid();
      return forked;
    }
    if (spec_.start_method == StartMethod::kTemplate) return forked.status();
    // kAuto: the template has logged why it cannot fork (once).
    logger()->debug("{}: spawned, not forked: {}", spec_.label(), std::string(forked.status().message()));
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(request);
  if (absl::IsNotFound(child.status())) {
    return absl::NotFoundError(absl::StrCat("python interpreter '", spec_.python, "' not found"));
  }
  return child;
}

absl::Status PythonWorker::StartFailure(absl::Status why) {
  Stop(absl::ZeroDuration());
  dead_.store(true);
  return absl::Status(why.code(),
                      absl::StrCat("pool '", spec_.pool, "': worker ", spec_.label(), " (interpreter ", spec_.python,
                                   ", adapter ", spec_.adapter, ") failed to start: ", why.message()));
}

void PythonWorker::Stop(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  if (child_ != nullptr && watcher_ != nullptr && !watcher_->exited()) {
    child_->Signal(SIGTERM);
    if (!watcher_->WaitForExit(absl::Now() + grace)) {
      // A zero grace is an immediate kill on purpose (failed start,
      // destruction), not something to warn about.
      if (grace > absl::ZeroDuration())
        logger()->warn("{}: did not exit {} after SIGTERM; sending SIGKILL", spec_.label(),
                       absl::FormatDuration(grace));
      child_->KillWithDescendants();  // issue 14 item 5: no descendant outlives it
    }
  } else if (child_ != nullptr && watcher_ == nullptr) {
    child_->KillWithDescendants();  // issue 14 item 5
  }
  watcher_.reset();  // joins: the process has been reaped
  child_.reset();
  lifeline_.reset();
  if (!spec_.socket_path.empty()) ::unlink(spec_.socket_path.c_str());  // a killed worker leaves its socket file
  dead_.store(true);
}

void PythonWorker::OnExit(const ExitInfo& info) {
  dead_.store(true);
  const std::string reason = absl::StrCat("worker ", spec_.label(), " ", info.ToString());
  if (std::shared_ptr<ShmClient> shm = Shm()) shm->Abort(reason);
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc) rpc->Abort(reason);
  if (on_exit_) on_exit_(info);
}

void PythonWorker::Execute(WorkerCall call, Done done) {
  if (std::shared_ptr<ShmClient> shm = Shm()) {
    shm->Execute(std::move(call), std::move(done));
    return;
  }
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr) {
    done(absl::UnavailableError(absl::StrCat(spec_.label(), ": worker is not running")));
    return;
  }
  rpc->Execute(std::move(call), std::move(done));
}

std::shared_ptr<StreamControl> PythonWorker::ExecuteStream(WorkerCall call, StreamHandlers handlers) {
  if (std::shared_ptr<ShmClient> shm = Shm()) return shm->ExecuteStream(std::move(call), std::move(handlers));
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr) {
    handlers.on_end(absl::UnavailableError(absl::StrCat(spec_.label(), ": worker is not running")));
    return nullptr;
  }
  return rpc->ExecuteStream(std::move(call), std::move(handlers));
}

void PythonWorker::Cancel(std::uint64_t call_id, CancelReason reason) {
  if (std::shared_ptr<ShmClient> shm = Shm(); shm != nullptr && !dead_.load()) {
    shm->Cancel(call_id, reason);
    return;
  }
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc != nullptr && !dead_.load()) rpc->Cancel(call_id, reason);
}

void PythonWorker::Kill() {
  // issue 14 item 5: the worker's descendants die with it.
  if (child_ != nullptr && watcher_ != nullptr && !watcher_->exited()) child_->KillWithDescendants();
}

std::string PythonWorker::DumpStacks(absl::Time deadline) {
  if (child_ == nullptr || watcher_ == nullptr || watcher_->exited() || !stacks_.valid()) return "";
  char buffer[4096];
  while (::read(stacks_.get(), buffer, sizeof buffer) > 0) {
  }  // a late answer to an earlier request
  if (!child_->Signal(SIGUSR2)) return "";
  std::string stacks;
  while (true) {
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    // Until the first bytes, wait for them; after, until a quiet pause.
    const absl::Duration wait = stacks.empty() ? deadline - now : std::min(deadline - now, kStacksQuiet);
    pollfd pfd{stacks_.get(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = ::read(stacks_.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    stacks.append(buffer, static_cast<size_t>(n));
  }
  return stacks;
}

void PythonWorker::CheckHealth(absl::Time deadline, std::function<void(absl::Status)> done) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || dead_.load()) {
    done(absl::UnavailableError(absl::StrCat(spec_.label(), ": worker is not running")));
    return;
  }
  // A worker that broke its shared memory answers health over gRPC, but
  // can take no call: it is not healthy.
  if (std::shared_ptr<ShmClient> shm = Shm()) {
    if (std::string broken = shm->broken(); !broken.empty()) {
      done(absl::UnavailableError(absl::StrCat(spec_.label(), ": ", broken)));
      return;
    }
  }
  rpc->HealthAsync(deadline, std::move(done));
}

void PythonWorker::Diagnostics(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) {
  std::shared_ptr<RpcClient> rpc = Rpc();
  if (rpc == nullptr || dead_.load()) {
    done(absl::UnavailableError(absl::StrCat(spec_.label(), ": worker is not running")));
    return;
  }
  rpc->StatsAsync(deadline, std::move(done));
}

std::shared_ptr<RpcClient> PythonWorker::Rpc() const {
  MutexLock lock(&mu_);
  return rpc_;
}

std::shared_ptr<ShmClient> PythonWorker::Shm() const {
  MutexLock lock(&mu_);
  return shm_;
}

WorkerMetadata PythonWorker::metadata() const {
  MutexLock lock(&mu_);
  return metadata_;
}

}  // namespace snakepit::internal
