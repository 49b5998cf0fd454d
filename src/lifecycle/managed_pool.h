// ManagedPool: what the LifecycleManager sees of a pool, and all it may do
// to it. Pool (src/pool/pool.h) implements it; the lifecycle tests
// implement it with fake workers, so the recycling policy is tested
// without Python.
//
// Threading: every method is thread-safe and may be called from any thread
// but the pool's own callbacks.
#ifndef SNAKEPIT_SRC_LIFECYCLE_MANAGED_POOL_H_
#define SNAKEPIT_SRC_LIFECYCLE_MANAGED_POOL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lifecycle/autoscale_policy.h"
#include "snakepit/config.h"
#include "snakepit/events.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

// One worker, as the lifecycle policy needs it.
struct WorkerView {
  int id = 0;
  int pid = 0;
  WorkerState state = WorkerState::kStarting;
  bool recycling = false;           // a replacement is requested or under way
  absl::Time expires_at;            // InfiniteFuture() without a TTL
  std::uint64_t requests = 0;       // calls finished
  std::uint64_t request_limit = 0;  // 0: none
};

class ManagedPool {
 public:
  virtual ~ManagedPool() = default;

  virtual const PoolConfig& config() const = 0;
  const std::string& name() const { return config().name; }

  virtual std::vector<WorkerView> Workers() const = 0;

  // Replaces worker `id` gracefully, in the background; `reason` goes into
  // its events ("ttl", "max_requests", "memory", "manual", ...) and
  // `memory_bytes` into the recycled event of a memory recycle. NOT_FOUND
  // for an unknown id; FAILED_PRECONDITION if the worker is not ready or is
  // already being replaced.
  virtual absl::Status Recycle(int id, std::string reason, std::int64_t memory_bytes = 0) = 0;

  // SIGKILLs worker `id` now (a hung worker cannot drain) and replaces it;
  // its in-flight calls fail with UNAVAILABLE. No-op unless it is live.
  virtual void Kill(int id, std::string reason) = 0;

  // Health probe of worker `id`: `done` gets OK if it answers "serving" by
  // now + `timeout`, UNAVAILABLE otherwise, NOT_FOUND at once if the worker
  // is unknown or not ready. `done` runs exactly once, on any thread, and
  // must not block.
  virtual void ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done) = 0;

  // Records the last memory figures measured for worker `id` (stats).
  virtual void RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes) = 0;

  // Publishes an event of the pool (must not block).
  virtual void Emit(Event event) const = 0;

  // --- Elastic pools (docs/elastic.md): the Autoscaler's view. The
  // defaults describe a pool that cannot change size.

  // The pool's load and size now.
  virtual LoadSample Load() const { return {}; }

  // Sets the size the pool keeps to `workers` and starts getting there in
  // the background (see WorkerSupervisor::Resize); `reason` ("load",
  // "idle", "manual") and `detail` go into its pool_scaling event.
  virtual absl::Status Resize(int workers, std::string reason, std::string detail) {
    (void)workers, (void)reason, (void)detail;
    return absl::UnimplementedError("this pool cannot be resized");
  }

  // Records the size the autoscaler's load figures ask for (stats).
  virtual void RecordDesiredSize(int workers) { (void)workers; }
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_MANAGED_POOL_H_
