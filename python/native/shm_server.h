// ShmServer: the worker's end of the shared-memory data plane. A few
// threads ("snakepit-shm") take turns at reading the host's messages,
// leader/followers fashion: the leader, the one thread that took the lead
// (led_), reads, and dispatches what it reads as WorkerService
// dispatches gRPC's: a Cancel to the open call and to Python through the
// Canceller, a credit to its stream, an ExecuteStream to an idle
// HandlerPool thread. An Execute, if the pool has a slot free (else a BUSY
// reply at once), the leader runs itself: it steps away from the channel,
// gives up the lead, runs the command in that slot, sends the reply, and
// leads again if no one else took the lead meanwhile.
//
// Why: a reader that handed each call to a handler thread cost the worker
// a second wake-up per call, and an eager hand-over of the lead to a
// follower cost as much. Here no thread is woken while the calls come one
// at a time: the others sleep on the channel's doorbell, which the host
// rings only for a message that comes while no thread reads (a Cancel of
// the running command, a second call of the thread profile). There are
// enough threads (the pool's size and one) that one can always read, so a
// Cancel is never stuck behind a running command.
//
// The calls share the gRPC server's OpenCalls, so a stop drains and
// cancels them alike, and a Cancel RPC over gRPC finds them too. The
// leader never takes the GIL while it leads. A message the worker cannot
// parse fails its call (INVALID_ARGUMENT); a channel the host broke
// (DATA_LOSS) or closed ends the threads, and the host, which sees the
// same channel, fails its calls.
#ifndef SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_
#define SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_counters.h"
#include "native/canceller.h"
#include "native/handler_pool.h"
#include "native/open_calls.h"
#include "native/shm_calls.h"
#include "shm/shm_channel.h"

namespace snakepit::native {

// Thread-safe. Everything passed in must outlive the server.
class ShmServer {
 public:
  ShmServer(std::unique_ptr<internal::ShmChannel> channel, HandlerPool& handlers, OpenCalls& open,
            CallCounters& counters, Canceller& canceller);
  // REQUIRES: Close() returned true, or Start() never called.
  ~ShmServer() = default;
  ShmServer(const ShmServer&) = delete;
  ShmServer& operator=(const ShmServer&) = delete;

  void Start();

  // New calls are refused (UNAVAILABLE) from now on.
  void StopAccepting() { stopping_.store(true); }

  // Closes the channel and waits until `deadline` for the threads that run
  // no command to exit; true once every thread was joined. A thread still
  // running a command exits when it returns: Close then returns false at
  // once, and a later Close joins it. Idempotent.
  bool Close(absl::Time deadline);

 private:
  // A thread: leads when no other does (else waits for the doorbell), runs
  // the Execute it took, and looks for the lead again.
  void Loop();
  // True if this thread took the lead (no other had it).
  bool TakeLead();
  // Gives the lead up: to run a command (`to_run`), or at the end.
  void LeaveLead(bool to_run);
  // Reads and dispatches messages until one is an Execute that this thread
  // is to run (returned), or the channel ends (null).
  std::shared_ptr<ShmExecuteCall> Lead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reader_mu_);
  // Dispatches `frame`; returns the Execute call the leader is to run
  // itself, its slot claimed, if it is one.
  std::shared_ptr<ShmExecuteCall> Dispatch(internal::Frame frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reader_mu_);
  std::shared_ptr<ShmExecuteCall> StartExecute(std::uint64_t call_id, v1::ExecuteRequest request);
  void StartStream(std::uint64_t call_id, v1::ExecuteRequest request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reader_mu_);
  void Credit(std::uint64_t call_id, std::span<const std::byte> payload) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reader_mu_);

  std::unique_ptr<internal::ShmChannel> channel_;
  ShmOutbox outbox_;
  HandlerPool& handlers_;
  OpenCalls& open_;
  CallCounters& counters_;
  Canceller& canceller_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ended_{false};  // the channel closed or broke
  // The lead: led_ while a thread reads the channel. Taking and leaving it
  // step back to and away from the channel under lead_mu_, so that the
  // channel's doorbell is armed exactly while no thread leads.
  absl::Mutex lead_mu_;
  bool led_ ABSL_GUARDED_BY(lead_mu_) = false;
  // Held by the leader while it reads, for what only the leader touches;
  // only the thread that took the lead locks it, so it is never contended.
  absl::Mutex reader_mu_;
  // Streams that may still take credit, by call id (expired entries are
  // pruned as the map grows).
  std::unordered_map<std::uint64_t, std::weak_ptr<ShmStreamCall>> streams_ ABSL_GUARDED_BY(reader_mu_);
  std::vector<std::thread> threads_;
  absl::Mutex exit_mu_;
  int exited_ ABSL_GUARDED_BY(exit_mu_) = 0;
  int running_ ABSL_GUARDED_BY(exit_mu_) = 0;  // threads running a command
  absl::Mutex close_mu_;
  bool joined_ ABSL_GUARDED_BY(close_mu_) = false;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_
