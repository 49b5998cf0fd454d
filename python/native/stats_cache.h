// StatsCache: what the native server answers Stats with, without the GIL.
//
// The fields that come from Python (CallRunner::Stats: mode,
// max_concurrency, threads, python_version, free_threaded_build,
// gil_enabled, adapter, diagnostics_json) are a snapshot, taken by a thread
// of the cache's own ("snakepit-stats"), which may wait for the GIL. pid,
// uptime_s and the counters (CallCounters) are read live. No reader takes
// the GIL or waits for it: the gRPC polling thread never does.
//
// Freshness: each Stats RPC asks for a refresh (Await), and is answered
// (its StatsWaiter told, Refreshed) once a refresh that started after it
// arrived has finished. While a handler thread runs a call (and may hold
// the GIL), it waits for that at most kHandlerWait; while none does, at
// most kMaxWait. Past that (KeepWaiting says no) it is answered from the
// latest snapshot, which is never older than the last refresh that could
// get the GIL, and at worst the one taken at Start.
#ifndef SNAKEPIT_PYTHON_NATIVE_STATS_CACHE_H_
#define SNAKEPIT_PYTHON_NATIVE_STATS_CACHE_H_

#include <chrono>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "native/call_counters.h"
#include "native/call_runner.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// A Stats RPC waiting for a fresh snapshot.
class StatsWaiter {
 public:
  // A refresh that started after the waiter's Await has finished; the
  // cache has let go of the waiter. Runs on the Stats thread with the
  // cache's lock held: it must not call the cache.
  virtual void Refreshed() = 0;

 protected:
  ~StatsWaiter() = default;
};

// Thread-safe. Its lock may be held while CallCounters' is taken, and
// while gRPC's alarm calls run (Arm, Refreshed), never the other way round.
class StatsCache {
 public:
  // How long a Stats RPC waits for a fresh snapshot while a handler thread
  // runs a call, and at most.
  static constexpr absl::Duration kHandlerWait = absl::Milliseconds(20);
  static constexpr absl::Duration kMaxWait = absl::Seconds(1);

  // Schedules the waiter's next look at the cache (a timer) for a
  // deadline; false when it cannot (the server is shutting down).
  using Arm = absl::FunctionRef<bool(absl::Time deadline)>;

  // `runner` and `counters` must outlive the cache.
  StatsCache(CallRunner& runner, const CallCounters& counters) : runner_(runner), counters_(counters) {}
  // REQUIRES: Stopped(), or Start() never called.
  ~StatsCache() = default;
  StatsCache(const StatsCache&) = delete;
  StatsCache& operator=(const StatsCache&) = delete;

  // Takes the first snapshot on the calling thread, which takes the GIL
  // for it (REQUIRES: it does not hold it), and starts the Stats thread.
  void Start();

  // Registers `waiter`, arrived now, for the next refresh to start, and
  // runs `arm` (with the cache's lock held, so Refreshed comes after it)
  // for its first look. False, and nothing registered, when `arm` failed.
  [[nodiscard]] bool Await(StatsWaiter& waiter, Arm arm);

  // For a waiter whose timer fired: true, having re-run `arm`, if it is
  // still registered and should wait longer (see Freshness above).
  [[nodiscard]] bool KeepWaiting(StatsWaiter& waiter, Arm arm);

  // Unregisters `waiter` if it still is: the cache never calls it again.
  void Forget(StatsWaiter& waiter);

  // The latest snapshot with the live fields set; its error (UNKNOWN) if
  // the latest refresh failed. Never waits for the GIL.
  grpc::Status Fill(v1::StatsResponse& response) const;

  // Tells the Stats thread to exit and waits for it until `deadline` (it
  // may be waiting for the GIL). True once it was joined: Stopped().
  bool Stop(absl::Time deadline);
  bool Stopped();

 private:
  struct Waiting {
    StatsWaiter* waiter;
    absl::Time arrived;
    bool covered;  // by the refresh under way
  };

  void Loop();
  // Takes a snapshot (takes the GIL) and stores it.
  void Refresh();
  bool WorkOrStop() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::vector<Waiting>::iterator Find(const StatsWaiter& waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CallRunner& runner_;
  const CallCounters& counters_;
  mutable absl::Mutex mu_;
  std::vector<Waiting> waiting_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  // The snapshot: the Python fields, or the error of taking them, and when.
  v1::StatsResponse snapshot_ ABSL_GUARDED_BY(mu_);
  grpc::Status snapshot_status_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point taken_ ABSL_GUARDED_BY(mu_);
  absl::Mutex stop_mu_;  // one Stop at a time
  std::thread thread_;
  bool joined_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_STATS_CACHE_H_
