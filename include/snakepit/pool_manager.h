// PoolManager: the named-pool router, the library's entry point.
//
//   auto config = snakepit::Config::FromJsonFile("pools.json");
//   auto pools = snakepit::PoolManager::Start(*config);
//   absl::StatusOr<nlohmann::json> r = (*pools)->execute("hpc", "compute", {{"n", 5}});
//
// Thread safety: every method may be called from any thread, concurrently.
// Errors: nothing throws; failures are absl::Status values with canonical
// codes: NOT_FOUND (unknown pool or command), RESOURCE_EXHAUSTED (queue
// full, message too large), DEADLINE_EXCEEDED (call or queue timeout),
// UNAVAILABLE (worker died mid-call, pool shut down), INVALID_ARGUMENT (bad
// args), UNKNOWN (a Python exception; see GetPythonError()).
// Options: every call form takes its CallOptions by value. Pass them as an
// rvalue (a temporary, or std::move(options)) and their attachments travel
// from your strings to the worker's request without a copy of their bytes
// (a 64 MiB attachment costs no 64 MiB copy on the way in); an lvalue is
// copied once, at the call. Reply attachments are moved to you the same way.
#ifndef SNAKEPIT_POOL_MANAGER_H_
#define SNAKEPIT_POOL_MANAGER_H_

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "snakepit/call.h"
#include "snakepit/config.h"
#include "snakepit/events.h"
#include "snakepit/export.h"
#include "snakepit/stats.h"
#include "snakepit/stream.h"

namespace snakepit {
namespace internal {
class PoolManagerTestPeer;
}  // namespace internal

class SNAKEPIT_EXPORT PoolManager {
 public:
  // Invoked exactly once per call, on an internal thread. It must not block:
  // hand long work to your own thread. An exception it throws is caught and
  // logged, and changes nothing else.
  using Callback = std::function<void(absl::StatusOr<Reply>)>;
  // A stream's chunks, one at a time, in order, never two at once; the
  // host reads the next chunk from the worker only once it returns (a slow
  // callback pauses the generator). Runs on an internal thread; must not
  // block for long. An exception it throws cancels the stream (logged).
  using ChunkCallback = std::function<void(Chunk)>;
  // A stream's end, exactly once, after its last ChunkCallback: OK when the
  // command finished, else why it stopped (as StreamReader::Next).
  using StreamDone = std::function<void(absl::Status)>;

  // Validates `config`, then starts every pool (each in parallel batches)
  // and returns once every worker is ready. If any pool cannot start, the
  // pools already started are stopped and the error names the pool, the
  // worker, the interpreter and the Python error.
  //
  // `on_event`, if given, is subscribed before the first worker starts, so
  // it sees every lifecycle event, start-up included (see subscribe()).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PoolManager>> Start(const Config& config,
                                                                          EventHandler on_event = nullptr);

  PoolManager(const PoolManager&) = delete;
  PoolManager& operator=(const PoolManager&) = delete;

  // Calls shutdown(). Inside a completion callback or an event handler of
  // this manager, the shutdown and the destruction of the pools continue
  // on a thread of their own once the callback returns (logged).
  ~PoolManager();

  // Runs `command` on a worker of `pool` with `args` and blocks until the
  // reply or the call's deadline.
  [[nodiscard]] absl::StatusOr<nlohmann::json> execute(std::string_view pool, std::string_view command,
                                                       const nlohmann::json& args = nlohmann::json::object(),
                                                       CallOptions options = {});

  // As execute(), returning the attachments too.
  [[nodiscard]] absl::StatusOr<Reply> call(std::string_view pool, std::string_view command,
                                           const nlohmann::json& args = nlohmann::json::object(),
                                           CallOptions options = {});

  // Non-blocking forms. The future is always fulfilled, at the latest at the
  // call's deadline.
  [[nodiscard]] std::future<absl::StatusOr<nlohmann::json>> execute_async(
      std::string_view pool, std::string_view command, const nlohmann::json& args = nlohmann::json::object(),
      CallOptions options = {});
  void execute_async(std::string_view pool, std::string_view command, const nlohmann::json& args, CallOptions options,
                     Callback done);

  // Runs `command` as a stream: a generator command's chunks as it yields
  // them (any other command gives one chunk). Returns at once; the reader
  // (stream.h) gives the chunks, then the end or the error. Errors found
  // at submission (unknown pool, bad args, queue full) come from the first
  // Next(). Cancel with reader.Cancel(), options.stop_token, or by
  // destroying the reader. Idempotent retries do not apply to streams.
  [[nodiscard]] StreamReader execute_stream(std::string_view pool, std::string_view command,
                                            const nlohmann::json& args = nlohmann::json::object(),
                                            CallOptions options = {});
  // The callback form: `on_chunk` for each chunk, then `done` once (see
  // ChunkCallback, StreamDone). Cancel through options.stop_token.
  void execute_stream(std::string_view pool, std::string_view command, const nlohmann::json& args, CallOptions options,
                      ChunkCallback on_chunk, StreamDone done);

  // Pool names in configuration order.
  std::vector<std::string> list_pools() const;

  // NOT_FOUND for an unknown pool.
  [[nodiscard]] absl::StatusOr<PoolStats> stats(std::string_view pool) const;

  // Replaces worker `worker_id` of `pool` (its id in stats().per_worker)
  // gracefully, in the background: the replacement starts, the worker
  // drains, then stops; its events carry reason "manual". NOT_FOUND for an
  // unknown pool or worker; FAILED_PRECONDITION if the worker is not ready
  // or already being replaced.
  absl::Status recycle_worker(std::string_view pool, int worker_id);

  // Changes the number of workers `pool` keeps to `workers`
  // (docs/elastic.md). Growing starts workers as a start-up does
  // (startup_batch_size at a time, restarts with backoff); shrinking picks
  // idle workers first, and each leaving worker takes no new call, drains
  // its running calls (up to drain_timeout) and stops: no running call
  // fails. Waits until the pool has `workers` ready workers and none
  // leaving, or `timeout` (0: startup_timeout to grow, drain_timeout +
  // kill_grace to shrink); DEADLINE_EXCEEDED then, while the pool keeps
  // going toward the size. Emits pool_scaling with reason "manual".
  // NOT_FOUND for an unknown pool; INVALID_ARGUMENT for a size outside
  // 1-1024, or outside [min_workers, max_workers] of an autoscaled pool
  // (whose autoscaler may change the size again later); FAILED_PRECONDITION
  // once the pool shuts down. Inside a completion callback or an event
  // handler it does not wait.
  absl::Status resize(std::string_view pool, int workers, std::chrono::milliseconds timeout = {});

  // Registers `handler` for every lifecycle event of every pool (events.h).
  // Handlers run on one library thread, in event order, and must not block
  // for long. Returns the id to pass to unsubscribe().
  SubscriptionId subscribe(EventHandler handler);
  // After it returns the handler is not running and never runs again. Must
  // not be called from a handler. False for an unknown id.
  bool unsubscribe(SubscriptionId id);

  // Stops taking calls, fails queued ones with UNAVAILABLE, waits for
  // in-flight calls up to each pool's drain_timeout, then stops the workers
  // (SIGTERM, SIGKILL after kill_grace) and removes the socket directory.
  // Idempotent. Called inside a completion callback or an event handler,
  // which run on library threads that the shutdown must wait for, it
  // returns at once and the shutdown runs on a thread of its own (logged);
  // the next shutdown() or the destructor waits for it.
  void shutdown();

  // The metrics endpoint's Prometheus page, e.g.
  // "http://127.0.0.1:9464/metrics" (the port the kernel picked for a
  // "listen" port of 0); "" when Config::metrics is unset. Stopped by
  // shutdown() and the destructor (docs/diagnostics.md).
  std::string metrics_url() const;

 private:
  friend class Inspector;                      // reads the pools (inspector.h)
  friend class internal::PoolManagerTestPeer;  // builds one over fake pools (tests/cpp/fake_manager.h)
  class Impl;
  explicit PoolManager(std::unique_ptr<Impl> impl);
  absl::Status StartMetrics(const MetricsConfig& config);
  std::unique_ptr<Impl> impl_;
};

}  // namespace snakepit

#endif  // SNAKEPIT_POOL_MANAGER_H_
