#include "manager/metrics_endpoint.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "config/metrics_config.h"
#include "httplib.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// Threads serving requests: a scrape and an `inspect --url` at once.
constexpr std::size_t kHandlerThreads = 2;
// A client that stalls holds a handler thread at most this long; Stop()
// waits for it at most this long too.
constexpr int kIoTimeoutSeconds = 2;
// Start() waits this long for the accept loop to run.
constexpr std::chrono::seconds kStartTimeout{5};

std::string UrlHost(const std::string& host) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
}

void Serve(httplib::Server& server, const std::string& path, std::function<std::string()> page,
           const char* content_type) {
  server.Get(path, [page = std::move(page), content_type](const httplib::Request&, httplib::Response& response) {
    response.set_content(page(), content_type);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const MetricsConfig& config, Pages pages) {
  SNAKEPIT_ASSIGN_OR_RETURN(const ListenAddress address, ParseListenAddress("metrics.listen", config.listen));
  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kHandlerThreads); };
  // One request per connection and short timeouts: Stop() never waits on
  // an idle keep-alive client.
  server->set_keep_alive_max_count(1);
  server->set_read_timeout(kIoTimeoutSeconds);
  server->set_write_timeout(kIoTimeoutSeconds);
  // SO_REUSEADDR (a restart may bind while the last run's connections sit
  // in TIME_WAIT) but not httplib's default SO_REUSEPORT, with which a
  // second process would share the port silently instead of failing.
  server->set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  Serve(*server, "/metrics", std::move(pages.prometheus), "text/plain; version=0.0.4; charset=utf-8");
  Serve(*server, "/inspect", std::move(pages.text), "text/plain; charset=utf-8");
  Serve(*server, "/inspect.json", std::move(pages.json), "application/json");

  errno = 0;
  const int port = address.port == 0 ? server->bind_to_any_port(address.host)
                                     : (server->bind_to_port(address.host, address.port) ? address.port : -1);
  if (port < 0) {
    const int error = errno;
    return absl::InvalidArgumentError(
        absl::StrCat("metrics.listen: cannot listen on \"", config.listen,
                     "\": ", error != 0 ? std::generic_category().message(error) : "the address cannot be bound",
                     " (is the port in use, or the host not an address of this machine?)"));
  }
  const std::string url = absl::StrCat("http://", UrlHost(address.host), ":", port);
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint(std::move(server), url));
  httplib::Server* running = endpoint->server_.get();
  MutexLock lock(&endpoint->stop_mu_);
  endpoint->thread_ = std::thread([running] { running->listen_after_bind(); });
  // stop() is lost on a server whose accept loop has not begun: wait for it.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!running->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      // Not seen running, so stop() may be lost and a join could hang:
      // the thread and its server are left to the process (never seen).
      endpoint->thread_.detach();
      static_cast<void>(endpoint->server_.release());
      return absl::DeadlineExceededError(absl::StrCat("metrics endpoint ", url, " did not start serving"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  logger()->info("metrics endpoint: {}/metrics", url);
  return endpoint;
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<httplib::Server> server, std::string url)
    : server_(std::move(server)), url_(std::move(url)) {}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::Stop() {
  MutexLock lock(&stop_mu_);
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace snakepit::internal
