#include "diagnostics/recommendations.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "snakepit/compatibility.h"

namespace snakepit::internal {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

double Seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1e3; }

Recommendation Make(const PoolReport& r, std::string kind, std::string message, nlohmann::json facts) {
  return Recommendation{r.stats.name, std::move(kind), std::move(message), std::move(facts)};
}

void Saturated(const PoolReport& r, const InspectorOptions& o, std::vector<Recommendation>& out) {
  if (r.window < o.min_window || r.queue_nonempty_fraction < o.saturated_fraction) return;
  const PoolStats& s = r.stats;
  const std::string advice =
      s.profile == Profile::kProcess
          ? absl::StrCat("raise pool_size (now ", s.workers, ")")
          : absl::StrCat("raise threads_per_worker (now ", s.threads_per_worker,
                         ") if the calls wait on I/O or release the GIL, else pool_size (now ", s.workers, ")");
  out.push_back(Make(r, "pool_saturated",
                     absl::StrFormat("pool '%s' is saturated: calls waited in its queue %.0f%% of the last %.1f s "
                                     "(queue high-water %d, %d rejected) with all %d slots busy; %s.",
                                     s.name, 100 * r.queue_nonempty_fraction, Seconds(r.window), s.queue_high_water,
                                     s.rejected, s.capacity, advice),
                     {{"queue_nonempty_fraction", r.queue_nonempty_fraction},
                      {"window_s", Seconds(r.window)},
                      {"queue_high_water", s.queue_high_water},
                      {"rejected", s.rejected},
                      {"capacity", s.capacity}}));
}

void GilBound(const PoolReport& r, const InspectorOptions& o, std::vector<Recommendation>& out) {
  const PoolStats& s = r.stats;
  if (s.profile != Profile::kThread || s.workers == 0 || r.window < o.min_window) return;
  bool gil = false;
  std::string version;
  for (const WorkerReport& w : r.workers) {
    if (w.stats.gil_enabled) gil = true;
    version = w.stats.python_version;
  }
  if (!gil) return;
  // Calls that overlap but whose threads together use about one core:
  // they take turns on the GIL. I/O-bound calls use little CPU; native
  // code that releases the GIL uses more than one core.
  const double concurrency = r.mean_concurrency / s.workers;
  const double cores = r.cpu_cores / s.workers;
  // (0.35: a GIL-bound process on a busy machine still gets a good share
  // of a core; I/O-bound calls use a few percent.)
  if (concurrency < 1.5 || cores < 0.35 || cores > 1.15) return;
  out.push_back(Make(
      r, "gil_bound_thread_pool",
      absl::StrFormat("thread pool '%s' looks GIL-bound: its calls ran %.1f at a time per worker but used %.2f CPU "
                      "cores per worker (%.0f%% of their time on CPU) on Python %s with the GIL enabled. Pure-Python "
                      "CPU work does not run in parallel in threads: use the process profile, or a free-threaded "
                      "interpreter.",
                      s.name, concurrency, cores, 100 * cores / concurrency, version),
      {{"calls_at_once_per_worker", concurrency},
       {"cpu_cores_per_worker", cores},
       {"window_s", Seconds(r.window)},
       {"python", version}}));
}

void Underused(const PoolReport& r, const InspectorOptions& o, std::vector<Recommendation>& out) {
  const PoolStats& s = r.stats;
  if (s.profile != Profile::kProcess || s.workers < o.underused_min_workers || r.window < o.min_window) return;
  if (r.utilisation >= o.underused_utilisation || r.pss_bytes <= 0) return;
  // The same capacity as threads: 8 per process.
  const int thread_workers = (s.workers + 7) / 8;
  const double mean_pss = static_cast<double>(r.pss_bytes) / s.workers;
  const double saving = (static_cast<double>(r.pss_bytes) - mean_pss * thread_workers) / kMiB;
  out.push_back(Make(
      r, "process_pool_underused",
      absl::StrFormat("process pool '%s' was busy %.0f%% of its %d workers' capacity over %.1f s. If its calls wait "
                      "on I/O or release the GIL, the thread profile with %d worker(s) x %d threads could save "
                      "about %.0f MiB of its %.0f MiB PSS.",
                      s.name, 100 * r.utilisation, s.workers, Seconds(r.window), thread_workers,
                      (s.workers + thread_workers - 1) / thread_workers, saving,
                      static_cast<double>(r.pss_bytes) / kMiB),
      {{"utilisation", r.utilisation},
       {"workers", s.workers},
       {"pss_mib", static_cast<double>(r.pss_bytes) / kMiB},
       {"estimated_saving_mib", saving},
       {"window_s", Seconds(r.window)}}));
}

void NearMemoryLimit(const PoolReport& r, const PoolConfig& c, const InspectorOptions& o,
                     std::vector<Recommendation>& out) {
  if (c.worker_max_memory_mb <= 0) return;
  const double limit = static_cast<double>(c.worker_max_memory_mb) * kMiB;
  for (const WorkerReport& w : r.workers) {
    const double pss = static_cast<double>(w.stats.pss_bytes);
    if (pss < o.memory_warning_fraction * limit) continue;
    out.push_back(Make(
        r, "near_memory_limit",
        absl::StrFormat("worker %s-%d (pid %d) uses %.0f MiB PSS, %.0f%% of worker_max_memory_mb=%d: "
                        "it will be recycled soon; if that happens often, raise the limit or find "
                        "what grows.",
                        r.stats.name, w.stats.id, w.stats.pid, pss / kMiB, 100 * pss / limit, c.worker_max_memory_mb),
        {{"worker_id", w.stats.id},
         {"pid", w.stats.pid},
         {"pss_mib", pss / kMiB},
         {"limit_mib", c.worker_max_memory_mb}}));
  }
}

void UnsafeLibraries(const PoolReport& r, std::vector<Recommendation>& out) {
  if (r.stats.profile != Profile::kThread) return;
  std::set<std::string> seen;
  for (const WorkerReport& w : r.workers) {
    std::map<std::string, std::string> loaded = w.stats.loaded_libraries;
    for (const nlohmann::json& f : w.findings) {
      if (f.value("kind", "") == "unsafe_library") loaded.emplace(f.value("library", ""), f.value("version", ""));
    }
    for (const auto& [lib, version] : CompatibilityMatrix::Builtin().UnsafeAmong(loaded)) {
      if (!seen.insert(lib->name).second) continue;  // reported for an earlier worker
      out.push_back(Make(r, "thread_unsafe_library",
                         absl::StrCat("thread pool '", r.stats.name, "' has ", lib->name, " ", version,
                                      " loaded, which is not thread-safe: ", lib->notes,
                                      " Use the process profile, or guard every use with the adapter lock."),
                         {{"library", lib->name}, {"version", version}, {"worker_id", w.stats.id}}));
    }
  }
}

void UnlockedEntries(const PoolReport& r, std::vector<Recommendation>& out) {
  std::set<std::string> seen;
  for (const WorkerReport& w : r.workers) {
    for (const nlohmann::json& f : w.findings) {
      if (f.value("kind", "") != "concurrent_entry") continue;
      const std::string method = f.value("method", f.value("command", "?"));
      if (!seen.insert(method).second) continue;
      out.push_back(Make(r, "unlocked_concurrent_entry",
                         absl::StrCat("pool '", r.stats.name, "': ", f.value("message", method),
                                      " Guard shared state with the adapter lock (@synchronized or `with self.lock`), "
                                      "or mark the method @concurrent_safe if it is."),
                         f));
    }
  }
}

}  // namespace

std::vector<Recommendation> Recommend(const PoolReport& report, const PoolConfig& config,
                                      const InspectorOptions& options) {
  std::vector<Recommendation> out;
  Saturated(report, options, out);
  GilBound(report, options, out);
  Underused(report, options, out);
  NearMemoryLimit(report, config, options, out);
  UnsafeLibraries(report, out);
  UnlockedEntries(report, out);
  return out;
}

}  // namespace snakepit::internal
