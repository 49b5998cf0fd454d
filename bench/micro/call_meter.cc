#include "micro/call_meter.h"

#include <sys/resource.h>

namespace snakepit::bench {

std::int64_t CallMeter::ContextSwitches() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw + usage.ru_nivcsw;
}

void CallMeter::Report(benchmark::State& state) const {
  const double calls = static_cast<double>(state.iterations());
  if (calls == 0) return;
  const LatencySummary s = latency_.Summarize();
  state.counters["p50_us"] = s.p50_us;
  state.counters["p90_us"] = s.p90_us;
  state.counters["p99_us"] = s.p99_us;
  state.counters["mean_us"] = s.mean_us;
  state.counters["client_cpu_us"] = absl::ToDoubleMicroseconds(cpu_.self()) / calls;
  state.counters["server_cpu_us"] = absl::ToDoubleMicroseconds(cpu_.others()) / calls;
  state.counters["client_switches"] = static_cast<double>(ContextSwitches() - switches_) / calls;
  if (python_samples_ > 0) {
    const double n = static_cast<double>(python_samples_);
    state.counters["python_us"] = static_cast<double>(python_.count()) / 1000.0 / n;
    state.counters["python_cpu_us"] = static_cast<double>(python_cpu_.count()) / 1000.0 / n;
  }
}

}  // namespace snakepit::bench
