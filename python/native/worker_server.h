// WorkerServer: the native server of one worker process. gRPC C++ (the
// asynchronous API) serves snakepit.v1.Worker on the worker's --listen
// address: one polling thread runs every gRPC event (never Python), Execute
// calls run on `handler_threads` threads through a CallRunner (the Python
// side), and the Stats thread refreshes what Stats reports of Python
// (StatsCache).
//
// Life: Start, then a stop in three steps as worker.py's _Serving.stop
// does them: StopAccepting, Drain (in-flight calls finish, up to the grace
// period), Close (the calls still running are cancelled, gRPC shuts down,
// the polling thread, the idle handler threads, the Stats thread and the
// Cancel thread exit). Nothing here
// touches Python or its GIL: the CallRunner does, on the threads that call
// it.
#ifndef SNAKEPIT_PYTHON_NATIVE_WORKER_SERVER_H_
#define SNAKEPIT_PYTHON_NATIVE_WORKER_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "native/call_counters.h"
#include "native/call_queue.h"
#include "native/call_runner.h"
#include "native/canceller.h"
#include "native/handler_pool.h"
#include "native/open_calls.h"
#include "native/shm_server.h"
#include "native/stats_cache.h"
#include "native/worker_service.h"

namespace snakepit::native {

struct ServerOptions {
  // "unix:/absolute/path" or "host:port"; port 0 picks a free port.
  std::string listen;
  // Execute calls that may run at once (1 in process mode).
  int handler_threads = 1;
  // gRPC message limit, both directions.
  int max_message_bytes = 4 << 20;
  // When not empty, every RPC must carry it (security.h); else
  // UNAUTHENTICATED before anything runs.
  std::string auth_token = {};
  // PEM files; both set: TLS, both empty: plaintext.
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
  // The shared-memory data plane (shm_server.h): a memfd the host made and
  // formatted as a ShmChannel with rings of `shm_ring_bytes`; -1: none.
  // The server owns the fd from Start on. When it cannot be attached the
  // server serves gRPC alone and says why (data_plane_error).
  int shm_fd = -1;
  std::size_t shm_ring_bytes = 0;
};

// Thread-safe.
class WorkerServer {
 public:
  // Binds, takes the first Stats snapshot (the GIL must be free for it:
  // see StatsCache::Start), starts the threads and serves. A Unix socket
  // file is created
  // mode 0600. `runner` must outlive the server (and, if Stopped() never
  // holds, its threads: see ~WorkerServer). Errors: INVALID_ARGUMENT
  // (options), UNAVAILABLE (the address cannot be bound, naming it), and
  // those of ServerCredentials().
  static absl::StatusOr<std::unique_ptr<WorkerServer>> Start(const ServerOptions& options, CallRunner& runner);

  // REQUIRES: Stopped(), or Close() never called and Start failed. A server
  // whose threads may still run (a call stuck past Close) must be leaked
  // instead: its threads use it.
  ~WorkerServer();
  WorkerServer(const WorkerServer&) = delete;
  WorkerServer& operator=(const WorkerServer&) = delete;

  // The address it listens on, a TCP port 0 replaced by the bound port.
  const std::string& listen() const { return listen_; }

  // Health answers STOPPING and new Execute calls UNAVAILABLE from now on.
  void StopAccepting();

  // Waits until every Execute call received so far was answered and its
  // reply sent, or `deadline`; true if all were.
  bool Drain(absl::Time deadline);

  // Cancels the calls still running (their callers get CANCELLED), shuts
  // gRPC down and stops the polling thread, the idle handler threads and
  // the Stats thread.
  // True if gRPC and the polling thread finished by `deadline`. Idempotent.
  bool Close(absl::Time deadline);

  // Whether Close finished and every thread was joined.
  bool Stopped();

  // Whether calls also come over shared memory (ServerOptions::shm_fd).
  bool shm_active() const { return shm_ != nullptr; }
  // Why the shared-memory data plane that was offered is not used; empty
  // when it is, or none was offered.
  const std::string& data_plane_error() const { return shm_error_; }

 private:
  WorkerServer(const ServerOptions& options, CallRunner& runner);
  // Steps of Close; each true once done.
  bool ShutDownGrpc(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(close_mu_);
  bool StopPolling(absl::Time deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(close_mu_);
  // Maps the host's memfd and starts the ShmServer, or sets shm_error_.
  void AttachShm(const ServerOptions& options);

  CallCounters counters_;
  OpenCalls open_;
  HandlerPool handlers_;
  StatsCache stats_;
  Canceller canceller_;
  WorkerService service_;
  std::unique_ptr<grpc::Server> server_;  // set once by Start
  std::unique_ptr<CallQueue> queue_;      // set once by Start
  std::unique_ptr<ShmServer> shm_;        // set once by Start, if attached
  std::string shm_error_;                 // set once by Start
  bool shm_closed_ ABSL_GUARDED_BY(close_mu_) = false;
  std::string listen_;  // set once by Start
  std::thread poller_;
  absl::Notification polled_;  // the polling thread is done
  absl::Mutex close_mu_;       // one Close at a time
  bool shutdown_started_ ABSL_GUARDED_BY(close_mu_) = false;
  bool poller_joined_ ABSL_GUARDED_BY(close_mu_) = false;
  absl::Notification shutdown_done_;  // gRPC's Shutdown returned
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_WORKER_SERVER_H_
