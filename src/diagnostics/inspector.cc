// Inspector::Inspect: gathers the figures of every pool and its workers.
#include "snakepit/inspector.h"

#include <map>
#include <string>

#include "absl/time/clock.h"
#include "common/mutex.h"
#include "diagnostics/recommendations.h"
#include "lifecycle/proc_memory.h"
#include "manager/pool_manager_impl.h"

namespace snakepit {
namespace {

double Ratio(std::chrono::nanoseconds part, std::chrono::nanoseconds whole) {
  return whole.count() > 0 ? static_cast<double>(part.count()) / static_cast<double>(whole.count()) : 0.0;
}

// Fills the window figures of `r` from the growth of the cumulative ones
// since `before` (nullptr: since the pool started).
void FillWindow(PoolReport& r, const PoolStats* before) {
  const PoolStats& now = r.stats;
  const PoolStats zero;
  const PoolStats& then = before != nullptr ? *before : zero;
  r.window = now.uptime - then.uptime;
  const std::chrono::nanoseconds window = r.window;
  r.mean_concurrency = Ratio(now.busy_time - then.busy_time, window);
  r.cpu_cores = Ratio(now.cpu_time - then.cpu_time, window);
  r.utilisation = now.capacity > 0 ? r.mean_concurrency / now.capacity : 0.0;
  r.queue_nonempty_fraction = Ratio(now.queue_nonempty_time - then.queue_nonempty_time, window);
  r.capacity_full_fraction = Ratio(now.capacity_full_time - then.capacity_full_time, window);
  r.requests = now.requests - then.requests;
}

WorkerReport ReportWorker(const WorkerStats& stats, const absl::StatusOr<nlohmann::json>* answer) {
  WorkerReport w;
  w.stats = stats;
  if (stats.pid > 0) {
    // Measured now; a worker that just exited keeps its last figures.
    absl::StatusOr<internal::ProcessMemory> memory = internal::ReadProcessTreeMemory(stats.pid);
    if (memory.ok()) {
      w.stats.rss_bytes = memory->rss_bytes;
      w.stats.pss_bytes = memory->pss_bytes;
    }
  }
  if (answer == nullptr) return w;
  if (!answer->ok()) {
    w.report_error = std::string(answer->status().message());
    return w;
  }
  const nlohmann::json& j = **answer;
  w.threads = j.value("threads", 0);
  const nlohmann::json diagnostics = j.value("diagnostics", nlohmann::json::object());
  const nlohmann::json findings = diagnostics.value("findings", nlohmann::json::array());
  if (findings.is_array()) w.findings = findings;
  const nlohmann::json libraries = diagnostics.value("loaded_libraries", nlohmann::json::object());
  if (libraries.is_object()) {
    for (const auto& [name, version] : libraries.items()) {
      w.stats.loaded_libraries[name] = version.is_string() ? version.get<std::string>() : "";
    }
  }
  if (diagnostics.contains("gil_enabled") && diagnostics["gil_enabled"].is_boolean()) {
    w.stats.gil_enabled = diagnostics["gil_enabled"].get<bool>();
  }
  return w;
}

}  // namespace

struct Inspector::State {
  internal::Mutex mu;
  std::map<std::string, PoolStats> previous ABSL_GUARDED_BY(mu);
};

Inspector::Inspector(const PoolManager& pools, InspectorOptions options)
    : pools_(pools), options_(options), state_(std::make_unique<State>()) {}

Inspector::~Inspector() = default;

InspectionReport Inspector::Inspect() {
  internal::MutexLock lock(&state_->mu);
  InspectionReport report;
  report.time = std::chrono::system_clock::now();
  const absl::Time deadline = absl::Now() + absl::FromChrono(options_.worker_report_timeout);
  for (const auto& pool : pools_.impl_->pools) {
    // Asked first: the workers answer while the stats are read.
    const std::map<int, absl::StatusOr<nlohmann::json>> answers = pool->WorkerDiagnostics(deadline);
    PoolReport r;
    r.stats = pool->Stats();
    auto before = state_->previous.find(r.stats.name);
    FillWindow(r, before != state_->previous.end() ? &before->second : nullptr);
    for (const WorkerStats& w : r.stats.per_worker) {
      auto answer = answers.find(w.id);
      r.workers.push_back(ReportWorker(w, answer != answers.end() ? &answer->second : nullptr));
      r.rss_bytes += r.workers.back().stats.rss_bytes;
      r.pss_bytes += r.workers.back().stats.pss_bytes;
    }
    for (std::size_t i = 0; i < r.workers.size(); ++i) r.stats.per_worker[i] = r.workers[i].stats;
    r.recommendations = internal::Recommend(r, pool->config(), options_);
    state_->previous[r.stats.name] = r.stats;
    report.pools.push_back(std::move(r));
  }
  return report;
}

}  // namespace snakepit
