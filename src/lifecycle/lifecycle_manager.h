// LifecycleManager: decides when a pool's workers are recycled or killed.
//
// One per pool, with a thread of its own that ticks (every 10-100 ms,
// depending on the intervals configured) and, for each ready worker:
//   - recycles it once its TTL (worker_ttl + jitter) has passed;
//   - recycles it once it served its request limit (the router also does
//     this at once on the reply that reaches the limit);
//   - measures its memory every memory_check_interval (PSS and RSS of the
//     Python process and its children, from /proc; see proc_memory.h) and
//     recycles it if PSS exceeds worker_max_memory_mb;
//   - probes it with a Health RPC every health_check_interval, and kills it
//     after health_check_failures failures in a row (a hung worker cannot
//     drain, so it is not recycled gracefully).
// The pool carries these out (ManagedPool::Recycle / Kill); crash restarts
// and call_kill_timeout are the pool's own, as they need no polling.
//
// The decisions are plain code over ManagedPool, a Clock and a memory
// reader, so tests drive them with fake workers, a fake clock and fake
// memory figures, calling Tick() themselves (Mode::kManual).
//
// Threading: in Mode::kThread, construction starts the ticking thread; the
// destructor stops it and waits for health probes still in flight (each
// has a deadline, so the wait is bounded by health_check_timeout). `pool`
// and `clock` must outlive this object.
#ifndef SNAKEPIT_SRC_LIFECYCLE_LIFECYCLE_MANAGER_H_
#define SNAKEPIT_SRC_LIFECYCLE_LIFECYCLE_MANAGER_H_

#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "lifecycle/managed_pool.h"
#include "lifecycle/proc_memory.h"

namespace snakepit::internal {

class LifecycleManager {
 public:
  // Memory of the process tree rooted at a pid (ReadProcessTreeMemory).
  using MemoryReader = std::function<absl::StatusOr<ProcessMemory>(int pid)>;
  enum class Mode { kThread, kManual };

  LifecycleManager(ManagedPool& pool, Clock& clock, MemoryReader read_memory = DefaultMemoryReader(),
                   Mode mode = Mode::kThread);
  ~LifecycleManager();
  LifecycleManager(const LifecycleManager&) = delete;
  LifecycleManager& operator=(const LifecycleManager&) = delete;

  // One round of decisions at clock.Now(). The thread calls it every tick;
  // in Mode::kManual the owner does. Thread-safe.
  void Tick();

  // How often the thread ticks for `config` (10-100 ms).
  static absl::Duration TickFor(const PoolConfig& config);
  static MemoryReader DefaultMemoryReader();

 private:
  // Per-worker schedule.
  struct Watch {
    absl::Time next_memory_check;
    absl::Time next_health_check;
    int health_failures = 0;
    int pid = 0;
    bool probing = false;
  };

  void Run();
  // Returns true if it asked for a recycle.
  bool CheckLimits(const WorkerView& worker, absl::Time now);
  void CheckMemory(const WorkerView& worker);
  void OnProbe(int id, const absl::Status& status);

  ManagedPool& pool_;
  Clock& clock_;
  const MemoryReader read_memory_;
  const PoolConfig config_;
  const absl::Duration tick_;

  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int probes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, Watch> watches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Mode::kThread only
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_LIFECYCLE_MANAGER_H_
