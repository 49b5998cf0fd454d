#include "snakepit/events.h"

#include <ctime>

namespace snakepit {

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kWorkerStarted:
      return "worker_started";
    case EventType::kWorkerReady:
      return "worker_ready";
    case EventType::kWorkerStartFailed:
      return "worker_start_failed";
    case EventType::kWorkerDraining:
      return "worker_draining";
    case EventType::kWorkerRecycled:
      return "worker_recycled";
    case EventType::kWorkerCrashed:
      return "worker_crashed";
    case EventType::kHealthCheckFailed:
      return "health_check_failed";
    case EventType::kRestartBackoff:
      return "restart_backoff";
    case EventType::kPoolDegraded:
      return "pool_degraded";
    case EventType::kPoolRecovered:
      return "pool_recovered";
    case EventType::kRequestExecuted:
      return "request_executed";
    case EventType::kPoolSaturated:
      return "pool_saturated";
    case EventType::kCapacityReached:
      return "capacity_reached";
    case EventType::kPoolWarning:
      return "pool_warning";
    case EventType::kCallCancelled:
      return "call_cancelled";
    case EventType::kPoolScaling:
      return "pool_scaling";
  }
  return "unknown";
}

nlohmann::json Event::ToJson() const {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  nlohmann::json j = {{"type", EventTypeName(type)}, {"pool", pool}, {"time_unix_ms", ms}};
  if (worker_id >= 0) j["worker_id"] = worker_id;
  if (pid > 0) j["pid"] = pid;
  if (!reason.empty()) j["reason"] = reason;
  if (type == EventType::kWorkerRecycled || type == EventType::kWorkerCrashed) {
    j["uptime_ms"] = uptime.count();
    j["requests"] = requests;
  }
  if (exit_code) j["exit_code"] = *exit_code;
  if (signal) j["signal"] = *signal;
  if (memory_bytes > 0) j["memory_bytes"] = memory_bytes;
  if (type == EventType::kRestartBackoff) j["backoff_ms"] = backoff.count();
  if (failures > 0) j["failures"] = failures;
  if (!message.empty()) j["message"] = message;
  if (type == EventType::kCallCancelled) j["command"] = command;
  if (type == EventType::kRequestExecuted) {
    j["command"] = command;
    j["duration_us"] = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
    j["status"] = status;
    if (!trace_id.empty()) j["trace_id"] = trace_id;
  }
  if (type == EventType::kPoolSaturated) j["queued"] = queued;
  if (type == EventType::kPoolSaturated || type == EventType::kCapacityReached) j["in_flight"] = in_flight;
  if (type == EventType::kPoolScaling) {
    j["previous_size"] = previous_size;
    j["target_size"] = target_size;
  }
  return j;
}

}  // namespace snakepit
