// Point-in-time figures of a pool, as returned by PoolManager::stats().
#ifndef SNAKEPIT_STATS_H_
#define SNAKEPIT_STATS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "snakepit/config.h"
#include "snakepit/export.h"

namespace snakepit {

enum class WorkerState {
  kStarting,  // spawned, not ready yet
  kReady,     // takes calls
  kDraining,  // finishing in-flight calls, takes no new ones
  kStopped,   // stopped by us
  kDead,      // exited on its own (crash, kill), or lost: its channel broke
              // (it takes no calls and is killed if it has not exited)
};

SNAKEPIT_EXPORT std::string_view WorkerStateName(WorkerState state);

// Call durations, from submission to the caller's reply (queueing
// included), in a bounded histogram: percentiles are within about 9% of the
// true value (the bucket width), never above the largest duration seen.
struct SNAKEPIT_EXPORT LatencySummary {
  std::uint64_t count = 0;
  std::chrono::nanoseconds sum{0};
  std::chrono::nanoseconds max{0};
  std::chrono::nanoseconds p50{0};
  std::chrono::nanoseconds p95{0};
  std::chrono::nanoseconds p99{0};
  // Cumulative counts: calls that took at most `le_seconds`, at every power
  // of two of microseconds from 16 µs to about 134 s (Prometheus buckets).
  struct Bucket {
    double le_seconds = 0;
    std::uint64_t count = 0;
  };
  std::vector<Bucket> buckets;

  nlohmann::json ToJson() const;
};

struct SNAKEPIT_EXPORT WorkerStats {
  int id = 0;  // unique within the pool, never reused
  int pid = 0;
  WorkerState state = WorkerState::kStarting;
  int capacity = 0;
  int in_flight = 0;
  std::uint64_t requests = 0;  // calls this worker finished
  std::chrono::milliseconds age{0};
  std::uint64_t request_limit = 0;  // worker_max_requests + this worker's jitter; 0: none
  bool recycling = false;           // being replaced
  // Memory of the Python process and its children, as last measured
  // (every memory_check_interval); 0 until the first measurement.
  std::int64_t rss_bytes = 0;
  std::int64_t pss_bytes = 0;
  // Time this worker spent on calls (sent to replied, summed over calls, so
  // up to capacity x wall time) and the CPU time its handler threads used
  // in them (the sum of their Reply::python_cpu_time: sampled for short
  // calls).
  std::chrono::nanoseconds busy_time{0};
  std::chrono::nanoseconds cpu_time{0};
  // What the worker reported when it became ready: where it listens
  // ("unix:/path", or "host:port" for a TCP pool), its interpreter.
  std::string address;
  std::string python_version;
  bool free_threaded = false;  // free-threaded (Py_GIL_DISABLED) build
  bool gil_enabled = true;     // the GIL was on at run time
  // Libraries of the thread-safety matrix it had loaded: name -> version
  // ("" when unknown).
  std::map<std::string, std::string> loaded_libraries;
  // Forked from the pool's template (whose pid that was), not spawned
  // (PoolConfig::start_method).
  bool forked = false;
  int template_pid = 0;
  // Affinity keys bound to this worker (CallOptions::affinity_key).
  int affinity_keys = 0;
  // What carries its calls: "shm" (shared memory), "native" or "grpcio"
  // (gRPC to that server in the worker), "grpc" (a remote worker).
  std::string transport;
  // Why it does not use shared memory although the pool's worker_transport
  // ("auto" or "shm") would have it; empty otherwise.
  std::string transport_note;
};

struct SNAKEPIT_EXPORT PoolStats {
  std::string name;
  Profile profile = Profile::kProcess;  // the profile actually running
  // Set when a thread pool fell back to the process profile; says why.
  std::string fallback_reason;
  // The transport of its live workers ("shm", "native", "grpcio", "grpc";
  // several, comma-separated, while they differ), and why the first
  // worker that could have had shared memory did not (logged once too).
  std::string transport;
  std::string transport_fallback;
  int workers = 0;    // live workers (ready or draining)
  int capacity = 0;   // sum of live workers' capacity
  int in_flight = 0;  // calls running on workers
  int queued = 0;     // calls waiting for a slot
  int max_queue = 0;
  int queue_high_water = 0;
  std::uint64_t requests = 0;  // calls that got a reply (success or error)
  std::uint64_t errors = 0;    // of which failed
  std::uint64_t timeouts = 0;  // calls that ended with DEADLINE_EXCEEDED
  std::uint64_t rejected = 0;  // RESOURCE_EXHAUSTED at submission (queue full)
  // Replies that came after their caller's deadline and were dropped.
  std::uint64_t late_replies_discarded = 0;
  // Idempotent calls run again because their worker died (CallOptions).
  std::uint64_t retries = 0;
  // Cancellation (docs/streaming.md): calls whose caller cancelled them,
  // and running calls whose worker was asked to stop them (a cancel or a
  // deadline); of those, the ones still running on a worker now (their
  // slots stay taken until the worker has finished them).
  std::uint64_t cancelled = 0;
  std::uint64_t cancels_sent = 0;
  int abandoned_in_flight = 0;
  // Streams: open now, opened in all, chunks handed to readers, chunks
  // dropped because their stream had ended (cancelled, deadline), and the
  // chunks and bytes held for readers now, over every open stream.
  int open_streams = 0;
  std::uint64_t streams = 0;
  std::uint64_t stream_chunks = 0;
  std::uint64_t stream_chunks_dropped = 0;
  std::int64_t stream_buffered_chunks = 0;
  std::int64_t stream_buffered_bytes = 0;
  // Lifecycle.
  bool degraded = false;  // degraded_after_failures starts failed in a row
  int consecutive_start_failures = 0;
  std::string last_start_error;
  std::uint64_t crashes = 0;                      // workers that exited on their own
  std::uint64_t restarts = 0;                     // replacements started for crashed or killed workers
  std::map<std::string, std::uint64_t> recycles;  // by reason ("ttl", "memory", ...)
  std::vector<WorkerStats> per_worker;

  // Elastic sizing (docs/elastic.md). The target is the size the pool
  // keeps (pool_size, then resize() and the autoscaler); current_workers
  // counts the workers that hold a place in it now (starting or ready, not
  // leaving); desired is the size the autoscaler's load figures ask for
  // before its delays (the target without autoscaling). min/max: the
  // autoscaling bounds (0 without autoscaling).
  int target_workers = 0;
  int current_workers = 0;
  int desired_workers = 0;
  int min_workers = 0;
  int max_workers = 0;
  std::uint64_t scale_ups = 0;    // size increases (manual and autoscaler)
  std::uint64_t scale_downs = 0;  // size decreases
  // Affinity keys the pool remembers, and those it forgot to stay within
  // affinity_max_keys (least recently used first).
  int affinity_keys = 0;
  std::uint64_t affinity_evictions = 0;

  // Diagnostics (see docs/diagnostics.md).
  int threads_per_worker = 1;           // capacity of one worker
  std::chrono::milliseconds uptime{0};  // since the pool started
  LatencySummary latency;               // every call that completed
  // Cumulative over the pool's life, removed workers included; the
  // Inspector turns their growth over a window into utilisation figures.
  std::chrono::nanoseconds busy_time{0};            // sum of worker busy_time
  std::chrono::nanoseconds cpu_time{0};             // sum of worker cpu_time
  std::chrono::nanoseconds queue_nonempty_time{0};  // calls were waiting
  std::chrono::nanoseconds capacity_full_time{0};   // every slot was busy

  nlohmann::json ToJson() const;
};

}  // namespace snakepit

#endif  // SNAKEPIT_STATS_H_
