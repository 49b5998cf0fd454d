// Inspector: what each pool is doing, measured, with recommendations drawn
// from the figures, as JSON, text or Prometheus exposition.
//
//   snakepit::Inspector inspector(*pools);
//   snakepit::InspectionReport report = inspector.Inspect();
//   std::cout << report.ToText();          // or ToJson(), ToPrometheus()
//
// Each Inspect() measures the workers' memory from /proc now, asks every
// worker for its own report (thread-safety findings, loaded libraries), and
// compares the pool's cumulative figures with those of the previous
// Inspect() (or with the pool's start): the "window" that utilisation and
// the recommendations are about.
#ifndef SNAKEPIT_INSPECTOR_H_
#define SNAKEPIT_INSPECTOR_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "snakepit/export.h"
#include "snakepit/pool_manager.h"
#include "snakepit/stats.h"

namespace snakepit {

struct SNAKEPIT_EXPORT InspectorOptions {
  // Window-based recommendations (saturation, GIL-bound, underused) stay
  // quiet over a shorter window: too little evidence. Default: 5 s.
  std::chrono::milliseconds min_window{5'000};
  // Saturated: calls were queued at least this fraction of the window.
  double saturated_fraction = 0.5;
  // Underused: a process pool of at least underused_min_workers workers
  // busy less than this fraction of its capacity.
  double underused_utilisation = 0.25;
  int underused_min_workers = 4;
  // Near the limit: a worker's PSS at least this fraction of
  // worker_max_memory_mb.
  double memory_warning_fraction = 0.8;
  // How long Inspect() waits for the workers' own reports. Default: 2 s.
  std::chrono::milliseconds worker_report_timeout{2'000};
};

struct SNAKEPIT_EXPORT Recommendation {
  std::string pool;
  // "pool_saturated", "gil_bound_thread_pool", "process_pool_underused",
  // "near_memory_limit", "thread_unsafe_library", "unlocked_concurrent_entry".
  std::string kind;
  std::string message;   // one paragraph, with the numbers
  nlohmann::json facts;  // the measured figures that triggered it

  nlohmann::json ToJson() const;
};

struct SNAKEPIT_EXPORT WorkerReport {
  WorkerStats stats;  // rss_bytes / pss_bytes measured by this Inspect()
  int threads = 0;    // Python threads (threading.active_count()); 0: unknown
  // ThreadSafetyChecker findings (docs/thread-safety.md), as the worker
  // reported them; empty when checks are off.
  nlohmann::json findings = nlohmann::json::array();
  std::string report_error;  // why the worker's own report is missing, if it is
};

struct SNAKEPIT_EXPORT PoolReport {
  PoolStats stats;
  std::chrono::milliseconds window{0};
  // Over the window:
  double utilisation = 0;              // busy time / (capacity x window)
  double mean_concurrency = 0;         // calls running at once, on average
  double cpu_cores = 0;                // CPU cores the calls' threads used, on average
  double queue_nonempty_fraction = 0;  // of the window with calls queued
  double capacity_full_fraction = 0;   // of the window with every slot busy
  std::uint64_t requests = 0;          // calls completed in the window
  // Now:
  std::int64_t rss_bytes = 0;  // sum over the workers
  std::int64_t pss_bytes = 0;
  std::vector<WorkerReport> workers;
  std::vector<Recommendation> recommendations;
};

struct SNAKEPIT_EXPORT InspectionReport {
  std::chrono::system_clock::time_point time;
  std::vector<PoolReport> pools;

  nlohmann::json ToJson() const;
  // A human-readable summary: a block per pool with a table of its workers.
  std::string ToText() const;
  // Prometheus text exposition format 0.0.4 (docs/diagnostics.md lists the
  // metrics); serve it from your own HTTP endpoint.
  std::string ToPrometheus() const;
};

class SNAKEPIT_EXPORT Inspector {
 public:
  // `pools` must outlive the inspector.
  explicit Inspector(const PoolManager& pools, InspectorOptions options = {});
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // Thread-safe (concurrent calls take turns). Blocks at most about
  // worker_report_timeout plus the /proc reads.
  InspectionReport Inspect();

 private:
  struct State;
  const PoolManager& pools_;
  const InspectorOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace snakepit

#endif  // SNAKEPIT_INSPECTOR_H_
