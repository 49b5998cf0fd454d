// Pool's private records, shared by the pool_*.cc files.
#ifndef SNAKEPIT_SRC_ROUTER_POOL_INTERNAL_H_
#define SNAKEPIT_SRC_ROUTER_POOL_INTERNAL_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "router/pool.h"

namespace snakepit::internal {

// One worker of the pool and the router's accounting for it. Guarded by
// Pool::mu_, except `worker` and `label`, which are set before the slot is
// shared and never reassigned.
struct Pool::Slot {
  int id = 0;
  std::unique_ptr<WorkerProfile> worker;
  std::string label;  // the worker's, for messages ("<pool>-<id>")
  WorkerState state = WorkerState::kStarting;
  int in_flight = 0;
  std::uint64_t requests = 0;
  absl::Time started_at = absl::Now();
  // Limits drawn for this worker (jitter included); 0 / InfiniteFuture: none.
  std::uint64_t request_limit = 0;
  absl::Duration lifetime = absl::InfiniteDuration();  // TTL + jitter
  absl::Time expires_at = absl::InfiniteFuture();      // set when ready
  // A health probe is being sent; RemoveSlot() waits for it to be handed
  // to the worker, so the worker is not destroyed under it.
  bool probing = false;
  // Threads inside worker->Execute() for this slot (Send runs unlocked).
  // RemoveSlot() waits for zero before destroying the worker.
  std::atomic<int> senders{0};
  // A call on it failed at the transport: no new calls (see OnReply).
  bool suspect = false;
  // A recycle was requested (no second one is accepted).
  bool recycling = false;
  // Someone (a recycle or the exit handler) has taken charge of starting
  // this worker's successor; nobody else may.
  bool successor_arranged = false;
  // Set just before we SIGKILL it on purpose: its exit is then a recycle
  // with this reason, not a crash.
  std::string kill_reason;
  std::int64_t rss_bytes = 0;  // last measured (0: never)
  std::int64_t pss_bytes = 0;
  absl::Duration busy;  // sent-to-reply time of its calls
  absl::Duration cpu;   // handler CPU time its calls reported
};

// One submitted call. `finished` makes completion exactly-once between the
// reply, the deadline timer and shutdown; the rest is guarded by Pool::mu_.
struct Pool::Call {
  std::uint64_t id = 0;
  std::string command;
  std::string args_json;
  std::vector<std::string> attachments;
  absl::Time submitted;
  absl::Time deadline;
  absl::Time queue_deadline;  // when queued: min(deadline, submitted + queue_timeout)
  absl::Time sent;            // when dispatched to a worker
  bool admitted = false;      // queued or dispatched (not refused at once)
  Callback done;
  bool idempotent = false;
  int attempts_left = 1;  // runs still allowed, this one included
  std::atomic<bool> finished{false};
  bool queued = false;
  std::string worker_label;  // the worker it was last dispatched to
  DeadlineTimer::Handle timer;
  // call_kill_timeout: fires at deadline + call_kill_timeout while the
  // worker has not answered. `answered` is set by the reply.
  DeadlineTimer::Handle kill_timer;
  bool answered = false;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_ROUTER_POOL_INTERNAL_H_
