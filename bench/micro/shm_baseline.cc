// The shared-memory floor: 2 bytes to a child process and back through two
// ShmRings (src/shm/), the transport the data plane is built on. The child
// is plain C++ (no Python, no protobuf): this is what a round trip costs
// before any protocol work, beside noop/raw_socket's socket floor.
//   noop/shm_ring        the ring's default: every wait sleeps on the futex
//   noop/shm_ring_spin   each wait polls for 20 us before it sleeps
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>

#include "benchmark/benchmark.h"
#include "micro/call_meter.h"
#include "micro/targets.h"
#include "shm/shm_region.h"
#include "shm/shm_ring.h"

namespace snakepit::bench {
namespace {

using internal::ShmRegion;
using internal::ShmRing;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kCapacity = 1 << 16;

// A forked child that echoes every message of the request ring onto the
// reply ring until the request ring is closed.
class ShmEcho {
 public:
  static std::unique_ptr<ShmEcho> Start(absl::Duration spin) {
    auto requests = ShmRegion::Create("bench-requests", ShmRing::RegionSize(kCapacity));
    auto replies = ShmRegion::Create("bench-replies", ShmRing::RegionSize(kCapacity));
    if (!requests.ok() || !replies.ok() || !ShmRing::Format(requests->bytes(), kCapacity).ok() ||
        !ShmRing::Format(replies->bytes(), kCapacity).ok()) {
      return nullptr;
    }
    auto echo = std::unique_ptr<ShmEcho>(new ShmEcho(std::move(*requests), std::move(*replies)));
    echo->pid_ = ::fork();
    if (echo->pid_ == 0) {
      echo->Serve(spin);
      ::_exit(0);
    }
    echo->in_ = ShmRing::Attach(echo->requests_.bytes(), kCapacity).value();
    echo->out_ = ShmRing::Attach(echo->replies_.bytes(), kCapacity).value();
    echo->in_->set_spin(spin);
    echo->out_->set_spin(spin);
    return echo;
  }

  ~ShmEcho() {
    if (in_) in_->Close();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  pid_t pid() const { return pid_; }

  bool RoundTrip(const char* message, std::size_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    auto space = in_->Reserve(size, deadline);
    if (!space.ok()) return false;
    std::memcpy(space->data(), message, size);
    in_->Commit(size);
    if (!out_->Wait(deadline).ok()) return false;
    auto reply = out_->Peek();
    if (!reply.ok() || !reply->has_value() || (*reply)->size() != size) return false;
    out_->Release();
    return true;
  }

 private:
  ShmEcho(ShmRegion requests, ShmRegion replies) : requests_(std::move(requests)), replies_(std::move(replies)) {}

  void Serve(absl::Duration spin) {
    ShmRing in = ShmRing::Attach(requests_.bytes(), kCapacity).value();
    ShmRing out = ShmRing::Attach(replies_.bytes(), kCapacity).value();
    in.set_spin(spin);
    out.set_spin(spin);
    while (in.Wait(absl::InfiniteFuture()).ok()) {
      auto message = in.Peek();
      if (!message.ok() || !message->has_value()) return;
      auto space = out.Reserve((*message)->size(), absl::InfiniteFuture());
      if (!space.ok()) return;
      std::memcpy(space->data(), (*message)->data(), (*message)->size());
      out.Commit((*message)->size());
      in.Release();
    }
  }

  ShmRegion requests_;
  ShmRegion replies_;
  std::optional<ShmRing> in_;
  std::optional<ShmRing> out_;
  pid_t pid_ = -1;
};

void ShmRoundTrip(benchmark::State& state, absl::Duration spin) {
  std::unique_ptr<ShmEcho> echo = ShmEcho::Start(spin);
  if (echo == nullptr) {
    state.SkipWithError("shared memory could not be had");
    return;
  }
  CallMeter meter(echo->pid());
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    const bool ok = echo->RoundTrip("{}", 2);
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
