// WorkerSpec: everything needed to start one Python worker process.
#ifndef SNAKEPIT_SRC_WORKER_WORKER_SPEC_H_
#define SNAKEPIT_SRC_WORKER_WORKER_SPEC_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "snakepit/config.h"
#include "worker/worker_token.h"

namespace snakepit::internal {

class WorkerTemplate;

struct WorkerSpec {
  std::string pool;
  int id = 0;
  Profile profile = Profile::kProcess;
  int capacity = 1;                                    // execution slots; --max-workers in thread mode
  std::string python;                                  // interpreter to exec
  std::string adapter;                                 // "module:Class"
  WorkerTransport transport = WorkerTransport::kAuto;  // --transport
  std::vector<std::string> extra_args;
  bool thread_safety_checks = false;
  std::int64_t rlimit_as_mb = 0;  // 0: none
  int rlimit_nofile = 0;
  std::vector<std::string> env;  // complete environment, "KEY=value", without the token
  std::string socket_path;       // absolute; the worker listens on unix:<path> (unless tcp)
  std::optional<TcpConfig> tcp;  // set: the worker listens on TCP instead, tcp->host port 0
  // Draws the worker's token when it starts. Tests replace it to learn the
  // token; nothing else should.
  std::function<absl::StatusOr<std::string>()> new_token = NewWorkerToken;
  nlohmann::json preload = nlohmann::json::array();
  std::int64_t max_message_bytes = 0;
  // Bytes of each of the two rings of the shared-memory data plane (a
  // power of two): what one worker's channel reserves is twice this.
  std::size_t shm_ring_bytes = std::size_t{1} << 21;
  // How long a synchronous caller may poll for its reply on the
  // shared-memory transport (PoolConfig::reply_poll_us; ReplyPolling).
  absl::Duration reply_poll = absl::ZeroDuration();
  absl::Duration python_grace = absl::Seconds(5);  // --grace for SIGTERM
  // Set: the worker is forked from this template (worker_template.h)
  // rather than spawned. If the fork fails, kAuto spawns it instead and
  // kTemplate fails the start.
  std::shared_ptr<WorkerTemplate> fork_from;
  StartMethod start_method = StartMethod::kSpawn;

  std::string label() const { return pool + "-" + std::to_string(id); }
};

// The worker's command line: <python> -m snakepit_worker --mode ... with the
// lifeline on fd `lifeline_fd` and the readiness record on `ready_fd`. It
// never holds the token (every local user can read a process's argv).
// The worker's command line; `stacks_fd` is where it writes its Python
// stacks on SIGUSR2 (snakepit_worker/stacks.py).
std::vector<std::string> WorkerArgv(const WorkerSpec& spec, int lifeline_fd, int ready_fd, int stacks_fd);

// The worker's --transport for a pool's worker_transport.
std::string TransportFlag(WorkerTransport transport);

// The worker's --listen address: "unix:<socket_path>", or "<host>:0"
// ("[<host>]:0" for an IPv6 literal) for TCP.
std::string ListenAddress(const WorkerSpec& spec);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_WORKER_SPEC_H_
