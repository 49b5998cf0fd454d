#include "native/worker_server.h"

#include <pthread.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <grpcpp/health_check_service_interface.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "native/security.h"

namespace snakepit::native {
namespace {

// The socket file of a "unix:" address; nullopt for any other.
std::optional<std::string> UnixSocketPath(const std::string& listen) {
  for (const char* prefix : {"unix://", "unix:"}) {
    if (absl::StartsWith(listen, prefix)) return listen.substr(std::strlen(prefix));
  }
  return std::nullopt;
}

// Sets the process's umask for its scope. The umask is per process, so
// this only suits start-up, before the worker runs anything concurrently
// that creates files.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

absl::Status CheckOptions(const ServerOptions& options) {
  if (options.handler_threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("handler_threads must be >= 1, got ", options.handler_threads));
  }
  if (options.max_message_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat("max_message_bytes must be >= 1, got ", options.max_message_bytes));
  }
  if (options.listen.empty()) return absl::InvalidArgumentError("listen must not be empty");
  return absl::OkStatus();
}

}  // namespace

WorkerServer::WorkerServer(const ServerOptions& options, CallRunner& runner)
    : handlers_(options.handler_threads, runner, counters_),
      stats_(runner, counters_),
      canceller_(runner),
      service_(handlers_, open_, counters_, stats_, canceller_, options.auth_token) {}

WorkerServer::~WorkerServer() = default;

absl::StatusOr<std::unique_ptr<WorkerServer>> WorkerServer::Start(const ServerOptions& options, CallRunner& runner) {
  if (absl::Status status = CheckOptions(options); !status.ok()) return status;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentials(options.listen, options.tls_cert_file, options.tls_key_file, options.auth_token);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<WorkerServer> server(new WorkerServer(options, runner));
  // grpc.health.v1 beside the Worker service (Kubernetes' gRPC probes);
  // NOT_SERVING once a stop begins (StopAccepting).
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A remote pool's keepalive pings (every second, with or without calls)
  // are welcome: they are how it finds a worker whose host vanished.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.RegisterService(server->service_.service());
  std::unique_ptr<grpc::ServerCompletionQueue> queue = builder.AddCompletionQueue();
  const std::optional<std::string> socket_path = UnixSocketPath(options.listen);
  {
    // gRPC binds and starts accepting in one step: the socket file must be
    // private (0600) from its creation, not chmod-ed after the first accept.
    std::optional<ScopedUmask> private_files;
    if (socket_path) private_files.emplace(0177);
    server->server_ = builder.BuildAndStart();
  }
  server->queue_ = std::make_unique<CallQueue>(std::move(queue));
  absl::Status started = absl::OkStatus();
  if (server->server_ == nullptr || port == 0) {
    started = absl::UnavailableError(absl::StrCat("could not listen on ", options.listen, " (see gRPC's log above)"));
  } else if (socket_path && ::chmod(socket_path->c_str(), 0600) != 0) {
    started = absl::InternalError(absl::StrCat("chmod 0600 ", *socket_path, ": ", std::strerror(errno)));
  }
  if (!started.ok()) {
    if (server->server_ != nullptr) server->server_->Shutdown(std::chrono::system_clock::now());
    server->queue_->Shutdown();
    server->queue_->Poll();  // drains it
    return started;
  }
  server->listen_ = options.listen;
  if (!socket_path && absl::EndsWith(options.listen, ":0")) {
    server->listen_ = absl::StrCat(options.listen.substr(0, options.listen.size() - 1), port);
  }
  // A call that arrives before its thread is up waits for it (HandlerPool).
  server->handlers_.Start();
  server->stats_.Start();
  server->canceller_.Start();
  server->service_.Start(*server->queue_);
  if (options.shm_fd >= 0) server->AttachShm(options);
  server->poller_ = std::thread([s = server.get()] {
    pthread_setname_np(pthread_self(), "snakepit-grpc");
    s->queue_->Poll();
    s->polled_.Notify();
  });
  return server;
}

void WorkerServer::AttachShm(const ServerOptions& options) {
  internal::UniqueFd fd(options.shm_fd);
  absl::StatusOr<internal::ShmRegion> region =
      internal::ShmRegion::Map(std::move(fd), internal::ShmChannel::RegionSize(options.shm_ring_bytes));
  absl::StatusOr<std::unique_ptr<internal::ShmChannel>> channel =
      region.ok() ? internal::ShmChannel::AttachWorker(*std::move(region), options.shm_ring_bytes,
                                                       static_cast<std::size_t>(options.max_message_bytes))
                  : absl::StatusOr<std::unique_ptr<internal::ShmChannel>>(region.status());
  if (!channel.ok()) {
    shm_error_ = std::string(channel.status().message());
    return;
  }
  shm_ = std::make_unique<ShmServer>(*std::move(channel), handlers_, open_, counters_, canceller_);
  shm_->Start();
}

void WorkerServer::StopAccepting() {
  if (shm_ != nullptr) shm_->StopAccepting();
  service_.StopAccepting();
  if (server_ != nullptr && server_->GetHealthCheckService() != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
}

bool WorkerServer::Drain(absl::Time deadline) { return open_.WaitEmpty(deadline); }

bool WorkerServer::Close(absl::Time deadline) {
  absl::MutexLock lock(&close_mu_);
  StopAccepting();
  if (!ShutDownGrpc(deadline) || !StopPolling(deadline)) return false;
  // After ShutDownGrpc: the calls it failed sent their kFail on the channel.
  // A shm thread still running a command is left to finish it, as a busy
  // handler thread is (Stopped() says when both are done).
  if (shm_ != nullptr && !shm_closed_) shm_closed_ = shm_->Close(deadline);
  handlers_.Stop(deadline);
  stats_.Stop(deadline);
  canceller_.Stop(deadline);
  return true;
}

bool WorkerServer::ShutDownGrpc(absl::Time deadline) {
  if (!shutdown_started_) {
    shutdown_started_ = true;
    open_.FailAll(grpc::Status(grpc::StatusCode::CANCELLED, "the worker stopped before the call finished"));
    // Shutdown blocks until gRPC is done with every call: wait for it with a
    // deadline, on a thread of its own (never a gRPC or polling thread).
    std::thread([this] {
      server_->Shutdown(std::chrono::system_clock::now());
      shutdown_done_.Notify();
    }).detach();
  }
  return shutdown_done_.WaitForNotificationWithDeadline(deadline);
}

bool WorkerServer::StopPolling(absl::Time deadline) {
  queue_->Shutdown();
  if (!polled_.WaitForNotificationWithDeadline(deadline)) return false;
  if (!poller_joined_) {
    poller_.join();
    poller_joined_ = true;
  }
  return true;
}

bool WorkerServer::Stopped() {
  absl::MutexLock lock(&close_mu_);
  return poller_joined_ && (shm_ == nullptr || shm_closed_) && handlers_.Stopped() && stats_.Stopped() &&
         canceller_.Stopped();
}

}  // namespace snakepit::native
