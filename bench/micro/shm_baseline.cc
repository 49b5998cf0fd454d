// The shared-memory floor: 2 bytes to a child process and back through two
// ShmRings (src/shm/), the transport the data plane is built on. The child
// is plain C++ (no Python, no protobuf): this is what a round trip costs
// before any protocol work, beside noop/raw_socket's socket floor.
//   noop/shm_ring        the ring's default: every wait sleeps on the futex
//   noop/shm_ring_spin   each wait polls for 20 us before it sleeps
#include <chrono>
#include <memory>

#include "benchmark/benchmark.h"
#include "micro/call_meter.h"
#include "micro/targets.h"
#include "support/shm_echo.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Messages of up to this size: rings of 64 KiB.
constexpr std::size_t kMaxMessage = 60 * 1024;

void ShmRoundTrip(benchmark::State& state, absl::Duration spin) {
  absl::StatusOr<std::unique_ptr<ShmEcho>> started = ShmEcho::Start(kMaxMessage, spin);
  if (!started.ok()) {
    state.SkipWithError(("shared memory could not be had: " + started.status().ToString()).c_str());
    return;
  }
  ShmEcho& echo = **started;
  CallMeter meter(echo.pid());
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    const bool ok = echo.RoundTrip("{}", 2).ok();
    meter.Add(Clock::now() - start);
    if (!ok) {
      state.SkipWithError("shm round trip failed");
      break;
    }
  }
  meter.Report(state);
}

}  // namespace

void RegisterShmBenchmarks() {
  const auto add = [](const char* name, absl::Duration spin) {
    benchmark::RegisterBenchmark(name, [spin](benchmark::State& s) { ShmRoundTrip(s, spin); })
        ->UseRealTime()
        ->MeasureProcessCPUTime()
        ->Unit(benchmark::kMicrosecond);
  };
  add("noop/shm_ring", absl::ZeroDuration());
  add("noop/shm_ring_spin", absl::Microseconds(20));
}

}  // namespace snakepit::bench
