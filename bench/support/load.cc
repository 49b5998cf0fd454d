#include "support/load.h"

#include <chrono>
#include <thread>

#include "support/cpu_clock.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct CallerTally {
  LatencyRecorder latency;
  std::int64_t calls = 0;
  std::int64_t errors = 0;
  std::string first_error;
};

}  // namespace

nlohmann::json LoadResult::ToJson() const {
  nlohmann::json j = {{"callers", callers},
                      {"calls", calls},
                      {"errors", errors},
                      {"seconds", seconds},
                      {"calls_per_s", calls_per_s},
                      {"latency", latency.ToJson()},
                      {"client_cpu_us_per_call", client_cpu_us_per_call},
                      {"worker_cpu_us_per_call", worker_cpu_us_per_call},
                      {"worker_cores", worker_cores}};
  if (!first_error.empty()) j["first_error"] = first_error;
  return j;
}

LoadResult RunLoad(const LoadOptions& options, const std::function<absl::Status(int caller)>& call) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point window_start = start + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point window_end = window_start + absl::ToChronoNanoseconds(options.duration);
  std::vector<CallerTally> tallies(static_cast<std::size_t>(options.callers));
  std::vector<std::thread> threads;
  for (int i = 0; i < options.callers; ++i) {
    threads.emplace_back([&, i] {
      CallerTally& tally = tallies[static_cast<std::size_t>(i)];
      while (true) {
        const Clock::time_point sent = Clock::now();
        if (sent >= window_end) break;
        const absl::Status status = call(i);
        const Clock::time_point received = Clock::now();
        // Throughput counts the calls completed within the window, which
        // has the same edges as the CPU measurement.
        if (received < window_start || received > window_end) continue;
        ++tally.calls;
        tally.latency.Add(received - sent);
        if (!status.ok()) {
          if (tally.errors++ == 0) tally.first_error = status.ToString();
        }
      }
    });
  }
  std::this_thread::sleep_until(window_start);
  CpuWindow cpu(options.worker_pids);
  std::this_thread::sleep_until(window_end);
  const absl::Duration self_cpu = cpu.self();
  const absl::Duration worker_cpu = cpu.others();
  for (std::thread& t : threads) t.join();

  LoadResult result;
  result.callers = options.callers;
  LatencyRecorder all;
  for (const CallerTally& tally : tallies) {
    result.calls += tally.calls;
    result.errors += tally.errors;
    if (result.first_error.empty()) result.first_error = tally.first_error;
    all.Merge(tally.latency);
  }
  result.latency = all.Summarize();
  result.seconds = absl::ToDoubleSeconds(options.duration);
  result.calls_per_s = static_cast<double>(result.calls) / result.seconds;
  if (result.calls > 0) {
    const auto per_call = [&](absl::Duration d) {
      return absl::ToDoubleMicroseconds(d) / static_cast<double>(result.calls);
    };
    result.client_cpu_us_per_call = per_call(self_cpu);
    result.worker_cpu_us_per_call = per_call(worker_cpu);
  }
  result.worker_cores = absl::ToDoubleSeconds(worker_cpu) / result.seconds;
  return result;
}

}  // namespace snakepit::bench
