// ReplyPolling: whether a synchronous caller polls the shared-memory ring
// for its reply before it sleeps, and for how long.
//
// Why: a futex wake-up costs about 10 us each way on the 2-vCPU VMs this
// runs on, and the caller's is on every call's path. A caller that polls
// for the pool's `reply_poll_us` catches a no-op's reply about 11 us
// sooner (p50 34 -> 23 us, docs/performance.md) for about the CPU the
// sleep and the wake-up cost, and the worker no longer makes the wake-up
// system call. But a polling caller holds a CPU: when the calls in flight
// (each a busy worker) and the polling callers need more CPUs than the
// host may use, polling takes CPU from the workers it waits for (two
// callers on two CPUs: 1.7x fewer calls/s). So a caller polls only when
//   - the pool polls at all (`budget` > 0),
//   - this client's last reply came within `budget`: a caller of long
//     calls would poll for nothing and then sleep anyway, and
//   - the local calls in flight, the callers polling and this one fit the
//     CPUs: in_flight + polling + 1 <= cpus; and it stops polling as soon
//     as they no longer do (StillFits).
// The load is process-wide: every pool's shared-memory clients share one
// Load (ProcessLoad), since they share the machine's CPUs.
//
// Threading: thread-safe (atomics; the decisions are hints and may race:
// two callers that decide at once may both poll, for at most `budget`).
#ifndef SNAKEPIT_SRC_WORKER_REPLY_POLLING_H_
#define SNAKEPIT_SRC_WORKER_REPLY_POLLING_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace snakepit::internal {

class ReplyPolling {
 public:
  // What the callers of one process put on its CPUs.
  struct Load {
    std::atomic<int> in_flight{0};  // local calls sent and not yet answered
    std::atomic<int> polling{0};    // callers polling now
  };
  // The process's Load, shared by every client.
  static Load& ProcessLoad();
  // The CPUs this process may run on: its affinity mask, bounded by its
  // cgroup's CPU quota (UsableCpus); read once.
  static int ProcessCpus();

  // `budget`: the pool's reply_poll_us (zero: never poll).
  ReplyPolling(absl::Duration budget, int cpus, Load& load);
  ReplyPolling(const ReplyPolling&) = delete;
  ReplyPolling& operator=(const ReplyPolling&) = delete;
  ~ReplyPolling();

  // `calls` calls were sent to the worker / their ends (reply, failure,
  // expiry) were taken. The calls still counted when this is destroyed
  // leave the Load then.
  void Sent(int calls = 1);
  void Answered(int calls = 1);

  // How long a caller about to wait for its reply polls: zero, or the
  // budget, in which case the caller counts as polling until EndPoll.
  absl::Duration BeginPoll();
  // While a caller polls: whether the calls in flight and the polling
  // callers still fit the CPUs. A call sent meanwhile (another caller's,
  // another pool's) can make them not fit; the caller then sleeps.
  bool StillFits() const;
  // The wait that BeginPoll began is over: `polled` is what BeginPoll
  // returned, `waited` how long it took until a message came (or the
  // caller gave up).
  void EndPoll(absl::Duration polled, absl::Duration waited);

 private:
  const absl::Duration budget_;
  const int cpus_;
  Load& load_;
  // This client's share of load_.in_flight.
  std::atomic<int> in_flight_{0};
  // The last wait's length, in ns; starts at 0 (poll at first).
  std::atomic<std::int64_t> last_wait_ns_{0};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REPLY_POLLING_H_
