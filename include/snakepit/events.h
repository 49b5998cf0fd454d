// Lifecycle events: every step of a worker's life, delivered to subscribers
// registered with PoolManager::subscribe(). docs/lifecycle.md lists them.
#ifndef SNAKEPIT_EVENTS_H_
#define SNAKEPIT_EVENTS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "snakepit/export.h"

namespace snakepit {

enum class EventType {
  kWorkerStarted,      // a worker is being started (pid still 0: not spawned yet)
  kWorkerReady,        // takes calls
  kWorkerStartFailed,  // could not start; `message` says why
  kWorkerDraining,     // takes no new calls; finishing in-flight ones
  kWorkerRecycled,     // stopped on purpose; `reason`, `uptime`, `requests`
  kWorkerCrashed,      // exited on its own; `exit_code` or `signal`
  kHealthCheckFailed,  // a health probe failed; `failures` in a row
  kRestartBackoff,     // the next start attempt waits `backoff`
  kPoolDegraded,       // degraded_after_failures starts failed in a row
  kPoolRecovered,      // a start succeeded after the pool was degraded
  // Telemetry.
  kRequestExecuted,  // a call completed; `command`, `duration`, `status`
  kPoolSaturated,    // calls started waiting in the queue; `queued`, `in_flight`
  kCapacityReached,  // every slot of the pool became busy; `in_flight`
  kPoolWarning,      // the profile does not fit what runs; `reason`, `message`
  kCallCancelled,    // a running call's caller gave up: `reason` "cancelled" or
                     // "deadline_exceeded", `command`; the worker was asked to stop it
  // Elastic pools.
  kPoolScaling,  // the pool's size changes: `previous_size` -> `target_size`, `reason`, `message`
};

// "worker_started", "worker_ready", "worker_start_failed",
// "worker_draining", "worker_recycled", "worker_crashed",
// "health_check_failed", "restart_backoff", "pool_degraded",
// "pool_recovered", "request_executed", "pool_saturated",
// "capacity_reached", "pool_warning", "call_cancelled", "pool_scaling".
//
// kPoolSaturated and kCapacityReached fire when the condition begins, at
// most once per second per pool. kPoolWarning reasons: "gil_enabled" (a
// thread pool runs on an interpreter with the GIL on), "unsafe_library" (a
// thread pool's worker loaded a library the thread-safety matrix marks
// unsafe). kRequestExecuted events are only made while someone subscribes.
// kPoolScaling reasons: "manual" (PoolManager::resize), "load" (the
// autoscaler: the load asked for it), "idle" (the autoscaler: no calls for
// idle_timeout); `message` gives the figures behind it.
SNAKEPIT_EXPORT std::string_view EventTypeName(EventType type);

// Why a worker was recycled (Event::reason of kWorkerRecycled and, for
// graceful recycles, of the kWorkerDraining before it): "ttl",
// "max_requests", "memory", "manual" (graceful: drained first), and
// "health_check", "call_kill_timeout", "unreachable" (killed at once: a hung
// or unreachable worker cannot drain; no kWorkerDraining event), and
// "scale_down" (drained and stopped, without a successor, to shrink the
// pool).
struct SNAKEPIT_EXPORT Event {
  EventType type = EventType::kWorkerStarted;
  std::string pool;
  int worker_id = -1;  // -1 for pool-level events
  int pid = 0;
  std::chrono::system_clock::time_point time;
  std::string reason;                    // recycles
  std::chrono::milliseconds uptime{0};   // recycled, crashed
  std::uint64_t requests = 0;            // recycled, crashed: calls served
  std::optional<int> exit_code;          // crashed: exited with this status
  std::optional<int> signal;             // crashed: killed by this signal
  std::int64_t memory_bytes = 0;         // recycled for memory: the figure measured
  std::chrono::milliseconds backoff{0};  // restart_backoff
  int failures = 0;                      // health_check_failed, restart_backoff, pool_degraded
  std::string message;                   // human-readable detail
  // worker_recycled for "call_kill_timeout" or "health_check": every
  // thread's Python stack, asked of the worker just before it was killed
  // (faulthandler's format); empty if it did not answer within a second.
  std::string python_stacks;
  std::string command;                   // request_executed
  std::chrono::nanoseconds duration{0};  // request_executed: submission to reply
  std::string status;                    // request_executed: "OK" or the code, e.g. "DEADLINE_EXCEEDED"
  std::string trace_id;                  // request_executed: the call's traceparent trace id, or ""
  int queued = 0;                        // pool_saturated
  int in_flight = 0;                     // pool_saturated, capacity_reached
  int previous_size = 0;                 // pool_scaling: the size before
  int target_size = 0;                   // pool_scaling: the size from now on

  nlohmann::json ToJson() const;
};

// Called on the library's event thread, one event at a time, in the order
// the events happened. It must not block for long (it delays later events)
// and must not call PoolManager::unsubscribe() for itself.
using EventHandler = std::function<void(const Event&)>;

// Identifies a subscription; 0 is never a valid one.
using SubscriptionId = std::uint64_t;

}  // namespace snakepit

#endif  // SNAKEPIT_EVENTS_H_
