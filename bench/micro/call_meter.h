// CallMeter: what a no-op benchmark reports besides Google Benchmark's own
// times: latency percentiles, CPU per call on each side (this process by
// getrusage; the server process by its CPU clock), the client's context
// switches per call (each is a thread woken or put to sleep: the hand-offs
// between threads that a call costs), and the Python handler's own time
// when the reply carries it.
#ifndef SNAKEPIT_BENCH_MICRO_CALL_METER_H_
#define SNAKEPIT_BENCH_MICRO_CALL_METER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>

#include "benchmark/benchmark.h"
#include "support/cpu_clock.h"
#include "support/latency.h"

namespace snakepit::bench {

class CallMeter {
 public:
  // `server` is the process answering the calls; 0 when there is none.
  explicit CallMeter(pid_t server)
      : cpu_(server > 0 ? std::vector<pid_t>{server} : std::vector<pid_t>{}), switches_(ContextSwitches()) {}

  void Add(std::chrono::nanoseconds latency) { latency_.Add(latency); }
  // The worker's Timing: handler wall time and its thread's CPU time.
  void AddPython(std::chrono::nanoseconds time, std::chrono::nanoseconds cpu) {
    python_ += time;
    python_cpu_ += cpu;
    ++python_samples_;
  }

  // Sets the counters on `state`; call once, after the timed loop.
  void Report(benchmark::State& state) const;

 private:
  // Voluntary and involuntary context switches of this process so far.
  static std::int64_t ContextSwitches();

  CpuWindow cpu_;
  std::int64_t switches_;
  LatencyRecorder latency_;
  std::chrono::nanoseconds python_{0};
  std::chrono::nanoseconds python_cpu_{0};
  std::int64_t python_samples_ = 0;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_MICRO_CALL_METER_H_
