#include "snakepit/stats.h"

namespace snakepit {

std::string_view WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kDraining:
      return "draining";
    case WorkerState::kStopped:
      return "stopped";
    case WorkerState::kDead:
      return "dead";
  }
  return "unknown";
}

namespace {

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

nlohmann::json LatencySummary::ToJson() const {
  return {{"count", count},        {"sum_s", Seconds(sum)}, {"max_s", Seconds(max)},
          {"p50_s", Seconds(p50)}, {"p95_s", Seconds(p95)}, {"p99_s", Seconds(p99)}};
}

nlohmann::json PoolStats::ToJson() const {
  nlohmann::json workers_json = nlohmann::json::array();
  for (const WorkerStats& w : per_worker) {
    workers_json.push_back({{"id", w.id},
                            {"pid", w.pid},
                            {"state", WorkerStateName(w.state)},
                            {"capacity", w.capacity},
                            {"in_flight", w.in_flight},
                            {"requests", w.requests},
                            {"age_ms", w.age.count()},
                            {"request_limit", w.request_limit},
                            {"recycling", w.recycling},
                            {"rss_bytes", w.rss_bytes},
                            {"pss_bytes", w.pss_bytes},
                            {"busy_s", Seconds(w.busy_time)},
                            {"cpu_s", Seconds(w.cpu_time)},
                            {"python_version", w.python_version},
                            {"free_threaded", w.free_threaded},
                            {"gil_enabled", w.gil_enabled},
                            {"loaded_libraries", w.loaded_libraries},
                            {"forked", w.forked},
                            {"template_pid", w.template_pid},
                            {"affinity_keys", w.affinity_keys},
                            {"transport", w.transport},
                            {"transport_note", w.transport_note}});
  }
  nlohmann::json j = {{"name", name},
                      {"profile", ProfileName(profile)},
                      {"workers", workers},
                      {"capacity", capacity},
                      {"in_flight", in_flight},
                      {"queued", queued},
                      {"max_queue", max_queue},
                      {"queue_high_water", queue_high_water},
                      {"requests", requests},
                      {"errors", errors},
                      {"timeouts", timeouts},
                      {"rejected", rejected},
                      {"late_replies_discarded", late_replies_discarded},
                      {"retries", retries},
                      {"cancelled", cancelled},
                      {"cancels_sent", cancels_sent},
                      {"abandoned_in_flight", abandoned_in_flight},
                      {"open_streams", open_streams},
                      {"streams", streams},
                      {"stream_chunks", stream_chunks},
                      {"stream_chunks_dropped", stream_chunks_dropped},
                      {"stream_buffered_chunks", stream_buffered_chunks},
                      {"stream_buffered_bytes", stream_buffered_bytes},
                      {"degraded", degraded},
                      {"consecutive_start_failures", consecutive_start_failures},
                      {"crashes", crashes},
                      {"restarts", restarts},
                      {"recycles", recycles},
                      {"threads_per_worker", threads_per_worker},
                      {"uptime_s", Seconds(uptime)},
                      {"latency", latency.ToJson()},
                      {"busy_s", Seconds(busy_time)},
                      {"cpu_s", Seconds(cpu_time)},
                      {"queue_nonempty_s", Seconds(queue_nonempty_time)},
                      {"capacity_full_s", Seconds(capacity_full_time)},
                      {"per_worker", std::move(workers_json)}};
  j["size"] = {{"target", target_workers},  {"current", current_workers}, {"desired", desired_workers},
               {"min", min_workers},        {"max", max_workers},         {"scale_ups", scale_ups},
               {"scale_downs", scale_downs}};
  j["affinity"] = {{"keys", affinity_keys}, {"evictions", affinity_evictions}};
  if (!last_start_error.empty()) j["last_start_error"] = last_start_error;
  if (!fallback_reason.empty()) j["fallback_reason"] = fallback_reason;
  j["transport"] = transport;
  if (!transport_fallback.empty()) j["transport_fallback"] = transport_fallback;
  return j;
}

}  // namespace snakepit
