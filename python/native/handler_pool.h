// HandlerPool: the native server's handler threads, which run Execute calls
// and streams (HandlerJob) through a CallRunner, one per thread at a time.
//
// A call is only ever handed to an idle thread: when every thread is busy,
// TryRun refuses it at once and the caller answers BUSY. Calls never queue
// behind one another. A thread counts as idle again as soon as its call's
// reply is computed, before the reply is sent, so a caller that sends its
// next call when it receives a reply always finds a thread free.
#ifndef SNAKEPIT_PYTHON_NATIVE_HANDLER_POOL_H_
#define SNAKEPIT_PYTHON_NATIVE_HANDLER_POOL_H_

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_counters.h"
#include "native/call_runner.h"
#include "native/handler_job.h"

namespace snakepit::native {

// Thread-safe.
class HandlerPool {
 public:
  // `runner` and `counters` must outlive the pool and every thread it
  // started. The threads count the calls they run in `counters`.
  HandlerPool(int threads, CallRunner& runner, CallCounters& counters);
  // REQUIRES: Stopped() (every thread joined), or Start() never called.
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void Start();

  // The number of threads.
  int size() const { return size_; }

  // Hands `call` to an idle thread; false when every thread is busy or the
  // pool is stopping.
  [[nodiscard]] bool TryRun(std::shared_ptr<HandlerJob> job);

  // For a front end that runs calls on threads of its own (the
  // shared-memory one runs an Execute on the thread that read it, saving a
  // hand-off): TryClaim takes a slot of the pool's capacity, as a call
  // handed to a pool thread would (false when every slot is busy or the
  // pool is stopping), and RunClaimed runs `job` on the calling thread in
  // that slot, which is free again as soon as the job goes idle.
  // RunClaimed REQUIRES a TryClaim that returned true and was not used yet,
  // and a thread that holds an AttachThread() scope.
  [[nodiscard]] bool TryClaim();
  void RunClaimed(HandlerJob& job);
  std::unique_ptr<CallRunner::ThreadScope> AttachThread() { return runner_.AttachThread(); }

  // Tells every thread to exit once idle, and waits until each idle one
  // did, or `deadline`. A thread still running a call (past the grace
  // period of a stop) is left to finish it and exit later. Returns true
  // when every thread has exited and was joined: Stopped().
  bool Stop(absl::Time deadline);
  bool Stopped();

 private:
  void Loop();
  // Takes a free slot; false when none is or the pool is stopping.
  bool ClaimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WorkOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; }
  // Every thread has exited but those running a call.
  bool OnlyBusyLeft() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return exited_ + busy_ == size_; }

  const int size_;
  CallRunner& runner_;
  CallCounters& counters_;
  mutable absl::Mutex mu_;
  // Slots free to take a call (on a pool thread, or claimed): all of them
  // at the start (a call handed to a thread that is still starting waits
  // for it in queue_). Meaningless once stopping_.
  int idle_ ABSL_GUARDED_BY(mu_);
  int busy_ ABSL_GUARDED_BY(mu_) = 0;    // threads running a call
  int exited_ ABSL_GUARDED_BY(mu_) = 0;  // threads that are done with the pool
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  // Calls handed to idle threads; never longer than the idle count was.
  std::deque<std::shared_ptr<HandlerJob>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_HANDLER_POOL_H_
