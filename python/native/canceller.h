// Canceller: the native server's Cancel thread ("snakepit-cancel"), which
// tells Python that a call was cancelled (CallRunner::Cancel: the call's
// `cancelled` turns true and its on_cancel callbacks run here). Cancels
// come from the Cancel RPC and from a stream whose client ended it, both on
// the gRPC polling thread, which never takes the GIL: it posts them here.
#ifndef SNAKEPIT_PYTHON_NATIVE_CANCELLER_H_
#define SNAKEPIT_PYTHON_NATIVE_CANCELLER_H_

#include <cstdint>
#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_runner.h"

namespace snakepit::native {

// Thread-safe.
class Canceller {
 public:
  // `runner` must outlive the thread.
  explicit Canceller(CallRunner& runner) : runner_(runner) {}
  // REQUIRES: Stopped(), or Start() never called.
  ~Canceller() = default;
  Canceller(const Canceller&) = delete;
  Canceller& operator=(const Canceller&) = delete;

  void Start();

  // Queues a cancel of call `call_id` (0: ignored); never waits. Cancels
  // run in the order posted.
  void Post(std::uint64_t call_id, bool deadline_exceeded);

  // Tells the thread to exit (dropping cancels not yet run: the calls are
  // being cancelled by the stop) and waits for it until `deadline` (it may
  // be waiting for the GIL). True once it was joined: Stopped().
  bool Stop(absl::Time deadline);
  bool Stopped();

 private:
  struct Request {
    std::uint64_t call_id;
    bool deadline_exceeded;
  };

  void Loop();
  bool WorkOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; }

  CallRunner& runner_;
  mutable absl::Mutex mu_;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // set once by Start; joined by Stop
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CANCELLER_H_
