// ShmServer: the worker's end of the shared-memory data plane. One thread
// ("snakepit-shm") reads the host's messages from the channel and hands
// them on as WorkerService does gRPC's: an Execute or ExecuteStream to an
// idle HandlerPool thread (or a BUSY reply at once), a Cancel to the open
// call and to Python through the Canceller, a credit to its stream. The
// calls share the gRPC server's OpenCalls, so a stop drains and cancels
// them alike, and a Cancel RPC over gRPC finds them too.
//
// The thread never runs Python nor takes the GIL. A message the worker
// cannot parse fails its call (INVALID_ARGUMENT); a channel the host broke
// (DATA_LOSS) or closed ends the thread, and the host, which sees the same
// channel, fails its calls.
#ifndef SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_
#define SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
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

  // Closes the channel and waits for the thread until `deadline`; true once
  // it was joined. Idempotent.
  bool Close(absl::Time deadline);

 private:
  void Loop();
  void Dispatch(internal::Frame frame);
  void StartExecute(std::uint64_t call_id, v1::ExecuteRequest request);
  void StartStream(std::uint64_t call_id, v1::ExecuteRequest request);
  void Credit(std::uint64_t call_id, std::span<const std::byte> payload);

  std::unique_ptr<internal::ShmChannel> channel_;
  ShmOutbox outbox_;
  HandlerPool& handlers_;
  OpenCalls& open_;
  CallCounters& counters_;
  Canceller& canceller_;
  std::atomic<bool> stopping_{false};
  // Streams that may still take credit, by call id (the reader thread's
  // only; expired entries are pruned as the map grows).
  std::unordered_map<std::uint64_t, std::weak_ptr<ShmStreamCall>> streams_;
  std::thread thread_;
  absl::Notification exited_;
  absl::Mutex close_mu_;
  bool joined_ ABSL_GUARDED_BY(close_mu_) = false;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SHM_SERVER_H_
