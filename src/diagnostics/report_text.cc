// InspectionReport::ToJson and ToText, and Recommendation::ToJson.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "snakepit/inspector.h"

namespace snakepit {
namespace {

std::string Mib(std::int64_t bytes) { return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

std::string Ms(std::chrono::nanoseconds d) { return absl::StrFormat("%.2f ms", static_cast<double>(d.count()) / 1e6); }

std::string Age(std::chrono::milliseconds d) {
  const std::int64_t s = d.count() / 1000;
  if (s < 60) return absl::StrFormat("%.1fs", static_cast<double>(d.count()) / 1e3);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
}

}  // namespace

nlohmann::json Recommendation::ToJson() const {
  return {{"pool", pool}, {"kind", kind}, {"message", message}, {"facts", facts}};
}

nlohmann::json InspectionReport::ToJson() const {
  nlohmann::json pools_json = nlohmann::json::array();
  for (const PoolReport& p : pools) {
    nlohmann::json j = p.stats.ToJson();
    j["window_s"] = static_cast<double>(p.window.count()) / 1e3;
    j["utilisation"] = p.utilisation;
    j["mean_concurrency"] = p.mean_concurrency;
    j["cpu_cores"] = p.cpu_cores;
    j["queue_nonempty_fraction"] = p.queue_nonempty_fraction;
    j["capacity_full_fraction"] = p.capacity_full_fraction;
    j["window_requests"] = p.requests;
    j["available_capacity"] = p.stats.capacity - p.stats.in_flight;
    j["rss_bytes"] = p.rss_bytes;
    j["pss_bytes"] = p.pss_bytes;
    for (std::size_t i = 0; i < p.workers.size() && i < j["per_worker"].size(); ++i) {
      j["per_worker"][i]["threads"] = p.workers[i].threads;
      j["per_worker"][i]["findings"] = p.workers[i].findings;
      if (!p.workers[i].report_error.empty()) j["per_worker"][i]["report_error"] = p.workers[i].report_error;
    }
    nlohmann::json recs = nlohmann::json::array();
    for (const Recommendation& r : p.recommendations) recs.push_back(r.ToJson());
    j["recommendations"] = std::move(recs);
    pools_json.push_back(std::move(j));
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  return {{"time_unix_ms", ms}, {"pools", std::move(pools_json)}};
}

std::string InspectionReport::ToText() const {
  std::string out;
  for (const PoolReport& p : pools) {
    const PoolStats& s = p.stats;
    absl::StrAppendFormat(&out, "pool %s  %s profile  %d workers x %d  capacity %d  uptime %s%s\n", s.name,
                          ProfileName(s.profile), s.workers, s.threads_per_worker, s.capacity, Age(s.uptime),
                          s.degraded ? "  DEGRADED" : "");
    absl::StrAppendFormat(&out,
                          "  in flight %d  available %d  queued %d (high-water %d)  utilisation %.0f%%  "
                          "queued %.0f%% of the last %s\n",
                          s.in_flight, s.capacity - s.in_flight, s.queued, s.queue_high_water, 100 * p.utilisation,
                          100 * p.queue_nonempty_fraction, Age(p.window));
    std::string recycles;
    for (const auto& [reason, n] : s.recycles) absl::StrAppend(&recycles, " ", reason, "=", n);
    absl::StrAppendFormat(
        &out, "  transport %s%s\n", s.transport.empty() ? "-" : s.transport,
        s.transport_fallback.empty() ? "" : absl::StrCat("  (not shared memory: ", s.transport_fallback, ")"));
    absl::StrAppendFormat(&out, "  requests %d  errors %d  timeouts %d  rejected %d  crashes %d  recycles%s\n",
                          s.requests, s.errors, s.timeouts, s.rejected, s.crashes, recycles.empty() ? " 0" : recycles);
    absl::StrAppendFormat(&out, "  latency p50 %s  p95 %s  p99 %s  (%d calls)   memory RSS %s  PSS %s\n",
                          Ms(s.latency.p50), Ms(s.latency.p95), Ms(s.latency.p99), s.latency.count, Mib(p.rss_bytes),
                          Mib(p.pss_bytes));
    const std::string bounds =
        s.max_workers > 0 ? absl::StrCat("  autoscale ", s.min_workers, "-", s.max_workers) : std::string();
    absl::StrAppendFormat(&out,
                          "  size target %d  current %d  desired %d%s  scale-ups %d  scale-downs %d  "
                          "affinity keys %d (evicted %d)\n",
                          s.target_workers, s.current_workers, s.desired_workers, bounds, s.scale_ups, s.scale_downs,
                          s.affinity_keys, s.affinity_evictions);
    absl::StrAppendFormat(&out, "  %-6s %-8s %-9s %-6s %-9s %-11s %-11s %-10s %s\n", "WORKER", "PID", "STATE", "LOAD",
                          "REQUESTS", "RSS", "PSS", "AGE", "KEYS");
    for (const WorkerReport& w : p.workers) {
      absl::StrAppendFormat(&out, "  %-6d %-8d %-9s %-6s %-9d %-11s %-11s %-10s %d\n", w.stats.id, w.stats.pid,
                            std::string(WorkerStateName(w.stats.state)),
                            absl::StrCat(w.stats.in_flight, "/", w.stats.capacity), w.stats.requests,
                            Mib(w.stats.rss_bytes), Mib(w.stats.pss_bytes), Age(w.stats.age), w.stats.affinity_keys);
    }
    for (const Recommendation& r : p.recommendations) absl::StrAppend(&out, "  ! [", r.kind, "] ", r.message, "\n");
  }
  return out;
}

}  // namespace snakepit
