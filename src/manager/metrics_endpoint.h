// MetricsEndpoint: the PoolManager's optional HTTP endpoint (Config::metrics,
// docs/diagnostics.md "The metrics endpoint"). Plain HTTP/1.1 on a thread
// of its own (cpp-httplib, Debian's libcpp-httplib), GET only:
//   /metrics       Prometheus text format 0.0.4
//   /inspect       the text report of `snakepit inspect`
//   /inspect.json  the same report as JSON
// The pages are produced by callbacks the owner hands in, so this class
// knows nothing of pools.
#ifndef SNAKEPIT_SRC_MANAGER_METRICS_ENDPOINT_H_
#define SNAKEPIT_SRC_MANAGER_METRICS_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "snakepit/config.h"

namespace httplib {
class Server;
}

namespace snakepit::internal {

class MetricsEndpoint {
 public:
  // Each page's body. Called on the endpoint's threads (one request at a
  // time per thread, up to two at once); they must be thread-safe and must
  // not throw.
  struct Pages {
    std::function<std::string()> prometheus;
    std::function<std::string()> text;
    std::function<std::string()> json;
  };

  // Binds config.listen (validated already: Config::Validate) and serves
  // until Stop(). INVALID_ARGUMENT when the address cannot be bound (in
  // use, not an address of this host), naming it and the reason.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const MetricsConfig& config, Pages pages);

  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  ~MetricsEndpoint();  // Stop()

  // Closes the listening socket and joins the endpoint's threads: a
  // request being served finishes first (its page callback returns).
  // After it returns no page callback runs. Idempotent.
  void Stop();

  // "http://127.0.0.1:9464", with the port bound (the one the kernel
  // picked for port 0).
  const std::string& url() const { return url_; }

 private:
  MetricsEndpoint(std::unique_ptr<httplib::Server> server, std::string url);

  std::unique_ptr<httplib::Server> server_;  // null only after a failed Start
  const std::string url_;
  // Concurrent Stop() calls (a shutdown() beside the destructor) take turns.
  Mutex stop_mu_;
  std::thread thread_ ABSL_GUARDED_BY(stop_mu_);  // runs the accept loop
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_MANAGER_METRICS_ENDPOINT_H_
