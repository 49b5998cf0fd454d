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
// Pool::mu_, except `worker`, which is set before the slot is shared and
// never reassigned.
struct Pool::Slot {
  int id = 0;
  std::unique_ptr<WorkerProfile> worker;
  WorkerState state = WorkerState::kStarting;
  int in_flight = 0;
  std::uint64_t requests = 0;
  absl::Time started_at = absl::Now();
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
  Callback done;
  std::atomic<bool> finished{false};
  bool queued = false;
  std::string worker_label;  // set when sent
  DeadlineTimer::Handle timer;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_ROUTER_POOL_INTERNAL_H_
