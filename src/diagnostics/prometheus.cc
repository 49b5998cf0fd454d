// InspectionReport::ToPrometheus: text exposition format 0.0.4.
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "snakepit/inspector.h"

namespace snakepit {
namespace {

// Label values escape backslash, double quote and newline.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// 15 significant digits: exact for counters below 10^15, and no
// binary-rounding noise ("1.6e-05", not "1.5999999999999999e-05").
std::string Number(double v) { return absl::StrFormat("%.15g", v); }

double Seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

// Writes one metric family: HELP and TYPE once, then a sample per pool (or
// per worker) from `sample`, which appends lines via `line`.
class Writer {
 public:
  explicit Writer(const InspectionReport& report) : report_(report) {}

  template <typename F>
  void Family(const std::string& name, const std::string& type, const std::string& help, F each_pool) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (const PoolReport& p : report_.pools) each_pool(p);
  }

  void Sample(const std::string& name, const std::string& labels, double value) {
    absl::StrAppend(&out_, name, "{", labels, "} ", Number(value), "\n");
  }

  std::string Take() { return std::move(out_); }

 private:
  const InspectionReport& report_;
  std::string out_;
};

std::string PoolLabel(const PoolReport& p) { return absl::StrCat("pool=\"", Escape(p.stats.name), "\""); }

// The worker's id, never its pid: a label value that changed with every
// process would start a new series at every restart for the same worker.
std::string WorkerLabels(const PoolReport& p, const WorkerReport& w) {
  return absl::StrCat(PoolLabel(p), ",worker=\"", w.stats.id, "\"");
}

}  // namespace

std::string InspectionReport::ToPrometheus() const {
  Writer w(*this);
  auto gauge = [&w](const std::string& name, const std::string& help, auto value) {
    w.Family(name, "gauge", help, [&](const PoolReport& p) { w.Sample(name, PoolLabel(p), value(p)); });
  };
  auto counter = [&w](const std::string& name, const std::string& help, auto value) {
    w.Family(name, "counter", help, [&](const PoolReport& p) { w.Sample(name, PoolLabel(p), value(p)); });
  };
  w.Family("snakepit_pool_info", "gauge", "Pool profile (value is always 1).", [&](const PoolReport& p) {
    w.Sample("snakepit_pool_info",
             absl::StrCat(PoolLabel(p), ",profile=\"", std::string(ProfileName(p.stats.profile)), "\""), 1);
  });
  gauge("snakepit_pool_workers", "Live workers (ready or draining).",
        [](const PoolReport& p) { return p.stats.workers; });
  gauge("snakepit_pool_threads_per_worker", "Concurrent calls one worker takes.",
        [](const PoolReport& p) { return p.stats.threads_per_worker; });
  gauge("snakepit_pool_capacity", "Concurrent calls the pool takes.",
        [](const PoolReport& p) { return p.stats.capacity; });
  gauge("snakepit_pool_in_flight", "Calls running on workers.", [](const PoolReport& p) { return p.stats.in_flight; });
  gauge("snakepit_pool_queue_depth", "Calls waiting for a free slot.",
        [](const PoolReport& p) { return p.stats.queued; });
  gauge("snakepit_pool_queue_high_water", "Most calls ever waiting at once.",
        [](const PoolReport& p) { return p.stats.queue_high_water; });
  gauge("snakepit_pool_target_workers", "Workers the pool keeps (pool_size, resize, autoscaler).",
        [](const PoolReport& p) { return p.stats.target_workers; });
  gauge("snakepit_pool_current_workers", "Workers holding a place in the pool now (starting or ready).",
        [](const PoolReport& p) { return p.stats.current_workers; });
  gauge("snakepit_pool_desired_workers", "Workers the autoscaler's load figures ask for, before its delays.",
        [](const PoolReport& p) { return p.stats.desired_workers; });
  counter("snakepit_pool_scale_ups_total", "Increases of the pool's size.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.scale_ups); });
  counter("snakepit_pool_scale_downs_total", "Decreases of the pool's size.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.scale_downs); });
  gauge("snakepit_pool_affinity_keys", "Affinity keys the pool remembers.",
        [](const PoolReport& p) { return p.stats.affinity_keys; });
  counter("snakepit_pool_affinity_evictions_total", "Affinity keys forgotten to stay within affinity_max_keys.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.affinity_evictions); });
  gauge("snakepit_pool_degraded", "1 while worker starts keep failing.",
        [](const PoolReport& p) { return p.stats.degraded ? 1 : 0; });
  gauge("snakepit_pool_uptime_seconds", "Time since the pool started.",
        [](const PoolReport& p) { return Seconds(p.stats.uptime); });
  gauge("snakepit_pool_resident_memory_bytes", "RSS of the pool's Python processes, summed.",
        [](const PoolReport& p) { return static_cast<double>(p.rss_bytes); });
  gauge("snakepit_pool_proportional_memory_bytes", "PSS of the pool's Python processes, summed.",
        [](const PoolReport& p) { return static_cast<double>(p.pss_bytes); });
  counter("snakepit_requests_total", "Calls that got a reply (success or error).",
          [](const PoolReport& p) { return static_cast<double>(p.stats.requests); });
  counter("snakepit_request_errors_total", "Calls that failed.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.errors); });
  counter("snakepit_request_timeouts_total", "Calls that ended with DEADLINE_EXCEEDED.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.timeouts); });
  counter("snakepit_requests_rejected_total", "Calls refused because the queue was full.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.rejected); });
  counter("snakepit_calls_cancelled_total", "Calls their callers cancelled (stop token, reader).",
          [](const PoolReport& p) { return static_cast<double>(p.stats.cancelled); });
  counter("snakepit_cancels_sent_total", "Running calls a worker was asked to stop (cancel or deadline).",
          [](const PoolReport& p) { return static_cast<double>(p.stats.cancels_sent); });
  gauge("snakepit_abandoned_calls", "Calls still running on workers after their callers gave up.",
        [](const PoolReport& p) { return static_cast<double>(p.stats.abandoned_in_flight); });
  gauge("snakepit_open_streams", "Streams open now.",
        [](const PoolReport& p) { return static_cast<double>(p.stats.open_streams); });
  counter("snakepit_streams_total", "Streams opened.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.streams); });
  counter("snakepit_stream_chunks_total", "Stream chunks handed to readers.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.stream_chunks); });
  counter("snakepit_stream_chunks_dropped_total", "Stream chunks that arrived after their stream had ended.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.stream_chunks_dropped); });
  gauge("snakepit_stream_buffered_chunks", "Stream chunks held for readers now.",
        [](const PoolReport& p) { return static_cast<double>(p.stats.stream_buffered_chunks); });
  counter("snakepit_worker_crashes_total", "Workers that exited on their own.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.crashes); });
  counter("snakepit_worker_restarts_total", "Replacements started for crashed or killed workers.",
          [](const PoolReport& p) { return static_cast<double>(p.stats.restarts); });
  counter("snakepit_pool_busy_seconds_total", "Time workers spent on calls, summed over slots.",
          [](const PoolReport& p) { return Seconds(p.stats.busy_time); });
  counter("snakepit_pool_cpu_seconds_total", "CPU time the calls' Python threads used.",
          [](const PoolReport& p) { return Seconds(p.stats.cpu_time); });
  counter("snakepit_pool_queue_nonempty_seconds_total", "Time calls were waiting in the queue.",
          [](const PoolReport& p) { return Seconds(p.stats.queue_nonempty_time); });
  w.Family("snakepit_worker_recycles_total", "counter", "Workers replaced on purpose, by reason.",
           [&](const PoolReport& p) {
             for (const auto& [reason, n] : p.stats.recycles) {
               w.Sample("snakepit_worker_recycles_total",
                        absl::StrCat(PoolLabel(p), ",reason=\"", Escape(reason), "\""), static_cast<double>(n));
             }
           });
  w.Family("snakepit_call_duration_seconds", "histogram", "Call duration, submission to reply, queueing included.",
           [&](const PoolReport& p) {
             for (const LatencySummary::Bucket& b : p.stats.latency.buckets) {
               w.Sample("snakepit_call_duration_seconds_bucket",
                        absl::StrCat(PoolLabel(p), ",le=\"", Number(b.le_seconds), "\""), static_cast<double>(b.count));
             }
             w.Sample("snakepit_call_duration_seconds_bucket", absl::StrCat(PoolLabel(p), ",le=\"+Inf\""),
                      static_cast<double>(p.stats.latency.count));
             w.Sample("snakepit_call_duration_seconds_sum", PoolLabel(p), Seconds(p.stats.latency.sum));
             w.Sample("snakepit_call_duration_seconds_count", PoolLabel(p), static_cast<double>(p.stats.latency.count));
           });
  auto per_worker = [&w](const std::string& name, const std::string& type, const std::string& help, auto value) {
    w.Family(name, type, help, [&](const PoolReport& p) {
      for (const WorkerReport& wr : p.workers) w.Sample(name, WorkerLabels(p, wr), value(wr));
    });
  };
  w.Family("snakepit_worker_info", "gauge", "What carries the worker's calls (value is always 1).",
           [&](const PoolReport& p) {
             for (const WorkerReport& wr : p.workers) {
               w.Sample("snakepit_worker_info",
                        absl::StrCat(WorkerLabels(p, wr), ",transport=\"", wr.stats.transport, "\""), 1);
             }
           });
  per_worker("snakepit_worker_resident_memory_bytes", "gauge", "RSS of the worker's process tree.",
             [](const WorkerReport& wr) { return static_cast<double>(wr.stats.rss_bytes); });
  per_worker("snakepit_worker_proportional_memory_bytes", "gauge", "PSS of the worker's process tree.",
             [](const WorkerReport& wr) { return static_cast<double>(wr.stats.pss_bytes); });
  per_worker("snakepit_worker_in_flight", "gauge", "Calls running on the worker.",
             [](const WorkerReport& wr) { return wr.stats.in_flight; });
  per_worker("snakepit_worker_requests_total", "counter", "Calls the worker finished.",
             [](const WorkerReport& wr) { return static_cast<double>(wr.stats.requests); });
  per_worker("snakepit_worker_affinity_keys", "gauge", "Affinity keys bound to the worker.",
             [](const WorkerReport& wr) { return wr.stats.affinity_keys; });
  per_worker("snakepit_worker_age_seconds", "gauge", "Time since the worker became ready.",
             [](const WorkerReport& wr) { return static_cast<double>(wr.stats.age.count()) / 1e3; });
  gauge("snakepit_recommendations", "Recommendations the inspector made for the pool.",
        [](const PoolReport& p) { return static_cast<double>(p.recommendations.size()); });
  return w.Take();
}

}  // namespace snakepit
