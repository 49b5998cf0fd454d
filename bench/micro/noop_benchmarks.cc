// Scenario 1, the library side: one no-op call ("echo" with {} args, which
// returns {}) through PoolManager::execute() and call(), on a process pool
// and on a thread pool of one worker each, one caller.
#include <chrono>
#include <string>

#include "benchmark/benchmark.h"
#include "micro/call_meter.h"
#include "micro/targets.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;

const nlohmann::json& NoArgs() {
  static const nlohmann::json args = nlohmann::json::object();
  return args;
}

// execute(): what the scenario names; the reply's timing is not
// visible through it.
void LibraryExecute(benchmark::State& state, Targets* t, const std::string& pool, pid_t worker) {
  CallMeter meter(worker);
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<nlohmann::json> result = t->pools->execute(pool, "echo", NoArgs());
    meter.Add(Clock::now() - start);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  meter.Report(state);
}

// call(): the same path (execute() is call() returning only the result),
// plus the Python handler's time from the reply.
void LibraryCall(benchmark::State& state, Targets* t, const std::string& pool, pid_t worker) {
  CallMeter meter(worker);
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<Reply> reply = t->pools->call(pool, "echo", NoArgs());
    meter.Add(Clock::now() - start);
    if (!reply.ok()) {
      state.SkipWithError(reply.status().ToString().c_str());
      break;
    }
    meter.AddPython(reply->python_time, reply->python_cpu_time);
  }
  meter.Report(state);
}

}  // namespace

void RegisterLibraryBenchmarks(Targets* t) {
  const auto add = [](const char* name, auto fn) {
    benchmark::RegisterBenchmark(name, fn)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);
  };
  add("noop/library_execute/process",
      [t](benchmark::State& s) { LibraryExecute(s, t, "process", t->process_pool_pid); });
  add("noop/library_call/process", [t](benchmark::State& s) { LibraryCall(s, t, "process", t->process_pool_pid); });
  add("noop/library_call/thread", [t](benchmark::State& s) { LibraryCall(s, t, "thread", t->thread_pool_pid); });
}

}  // namespace snakepit::bench
