// Pool: one named pool of workers. It is three parts over one shared core
// (pool_core.h):
//
//   CallRouter        calls: queue, slot choice, capacity, deadlines,
//                     exactly-once delivery, late replies, retries
//   WorkerSupervisor  workers: start, graceful replacement, restart with
//                     backoff, degraded state, kill, shutdown
//   PoolTelemetry     figures and load events
//
// and the ManagedPool interface through which the LifecycleManager
// decides when to recycle or kill. Time comes from an injected Clock and
// workers from an injected factory, so the pool's policy is tested with
// in-memory workers and a fake clock (tests/cpp/pool_policy_test.cc), and
// end to end with real Python workers.
//
// Threading: every public method is thread-safe. Callers' callbacks are
// never invoked under a pool lock. Shutdown() must not be called from a
// call's callback or an event handler of this pool (it waits for them).
#ifndef SNAKEPIT_SRC_POOL_POOL_H_
#define SNAKEPIT_SRC_POOL_POOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "lifecycle/managed_pool.h"
#include "nlohmann/json.hpp"
#include "pool/call_router.h"
#include "pool/pool_core.h"
#include "pool/pool_telemetry.h"
#include "pool/worker_supervisor.h"
#include "snakepit/call.h"
#include "snakepit/config.h"
#include "snakepit/events.h"
#include "snakepit/stats.h"

namespace snakepit::internal {

class Pool final : public ManagedPool {
 public:
  using Callback = Call::Callback;
  using WorkerFactory = WorkerSupervisor::WorkerFactory;
  using EventSink = PoolCore::EventSink;
  using EventsWanted = PoolTelemetry::EventsWanted;

  // `clock` null: a RealClock of the pool's own. A given clock must outlive
  // the pool.
  Pool(PoolConfig config, WorkerFactory factory, EventSink events = nullptr, EventsWanted events_wanted = nullptr,
       Clock* clock = nullptr);
  ~Pool() override;  // Shutdown()
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Starts config.pool_size workers; on error every worker is stopped.
  // Call once.
  [[nodiscard]] absl::Status Start() { return supervisor_.Start(); }

  // A remote pool's membership; see WorkerSupervisor.
  [[nodiscard]] absl::Status AddWorker() { return supervisor_.AddWorker(); }
  void RetireWorker(int id, std::string reason) { supervisor_.RetireWorker(id, std::move(reason)); }

  // Routes one call; see CallRouter::Submit.
  void Submit(std::string command, std::string args_json, CallOptions options, Callback done,
              std::shared_ptr<StreamChannel> stream = nullptr) {
    router_.Submit(std::move(command), std::move(args_json), std::move(options), std::move(done), std::move(stream));
  }
  // Routes one call as Submit does and waits for its result: the
  // synchronous execute. The completion hands the result straight to the
  // calling thread (ReplyWaiter), moved. Bounded by the call's deadline.
  absl::StatusOr<Reply> CallAndWait(std::string command, std::string args_json, CallOptions options);
  // A new stream of this pool (not yet submitted): a reader's when
  // `on_chunk` is empty, holding options.stream_buffer chunks (0: the
  // pool's stream_buffer), else a callback stream.
  std::shared_ptr<StreamChannel> NewStream(const CallOptions& options, StreamChannel::ChunkCallback on_chunk = nullptr,
                                           StreamChannel::EndCallback on_end = nullptr) const;

  PoolStats Stats() const;
  Clock& clock() const { return core_.clock; }

  // ManagedPool.
  const PoolConfig& config() const override { return core_.config; }
  std::vector<WorkerView> Workers() const override { return supervisor_.Workers(); }
  absl::Status Recycle(int id, std::string reason, std::int64_t memory_bytes = 0) override {
    return supervisor_.Recycle(id, std::move(reason), memory_bytes);
  }
  void Kill(int id, std::string reason) override { supervisor_.Kill(id, std::move(reason)); }
  void ProbeHealth(int id, absl::Duration timeout, std::function<void(absl::Status)> done) override {
    supervisor_.ProbeHealth(id, timeout, std::move(done));
  }
  void RecordMemory(int id, std::int64_t rss_bytes, std::int64_t pss_bytes) override {
    supervisor_.RecordMemory(id, rss_bytes, pss_bytes);
  }
  void Emit(Event event) const override { core_.Emit(std::move(event)); }
  LoadSample Load() const override { return supervisor_.Load(); }
  absl::Status Resize(int workers, std::string reason, std::string detail) override {
    return supervisor_.Resize(workers, std::move(reason), std::move(detail));
  }
  void RecordDesiredSize(int workers) override;

  // See WorkerSupervisor::AwaitTargetSize.
  bool AwaitTargetSize(absl::Time deadline) const { return supervisor_.AwaitTargetSize(deadline); }

  // Every live worker's own report (the Stats RPC's diagnostics), asked all
  // at once and waited for until `deadline`.
  std::map<int, absl::StatusOr<nlohmann::json>> WorkerDiagnostics(absl::Time deadline) const {
    return supervisor_.WorkerDiagnostics(deadline);
  }

  // See PoolManager::shutdown(). Idempotent.
  void Shutdown() { supervisor_.Shutdown(); }

 private:
  // Declared in dependency order: destroyed supervisor first, clock last.
  std::unique_ptr<RealClock> own_clock_;
  PoolCore core_;
  PoolTelemetry telemetry_;
  CallRouter router_;
  WorkerSupervisor supervisor_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_POOL_H_
