// Scenario 12: streams and cancels, per transport. One process worker on
// each transport (shm, the default for a local worker; native; grpcio),
// measured side by side in interleaved rounds:
//   first_chunk_us      execute_stream to the first Next() of a one-chunk
//                       stream (median), against a unary call of the same
//                       payload (unary_call_us)
//   stream_chunks_per_s chunks of 64 B read from one stream, against
//                       unary_calls_per_s: sequential unary calls returning
//                       the same 64 B
//   cancel_to_free_ms   Cancel() of a running generator to its slot being
//                       free again (stats in_flight back to 0), median
// --quick shortens every measurement; no scenario prints verdicts.
#include <algorithm>
#include <chrono>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scenarios/pools.h"

namespace snakepit::bench {
namespace {

constexpr int kChunkBytes = 64;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Micros(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

struct Sample {
  std::vector<double> first_chunk_us, unary_call_us, cancel_to_free_ms;
  std::vector<double> stream_chunks_per_s, unary_calls_per_s;
  std::string error;
};

// One round of every measurement on `pools`.
void Round(const BenchEnv& env, PoolManager& pools, Sample& s) {
  const nlohmann::json one = {{"n", 1}, {"size", kChunkBytes}};
  for (int i = 0; i < env.Reps(60); ++i) {
    absl::Time start = absl::Now();
    StreamReader reader = pools.execute_stream(kPool, "chunks", one);
    absl::StatusOr<std::optional<Chunk>> first = reader.Next();
    if (!first.ok() || !first->has_value()) {
      s.error = first.ok() ? "no chunk" : first.status().ToString();
      return;
    }
    s.first_chunk_us.push_back(Micros(absl::Now() - start));
    (void)reader.Next();  // the end
    start = absl::Now();
    absl::StatusOr<nlohmann::json> unary = pools.execute(kPool, "blob", {{"size", kChunkBytes}});
    if (!unary.ok()) {
      s.error = unary.status().ToString();
      return;
    }
    s.unary_call_us.push_back(Micros(absl::Now() - start));
  }
  const int n = env.flags.quick ? 2'000 : 10'000;
  absl::Time start = absl::Now();
  StreamReader reader = pools.execute_stream(kPool, "chunks", {{"n", n}, {"size", kChunkBytes}});
  int got = 0;
  while (true) {
    absl::StatusOr<std::optional<Chunk>> next = reader.Next();
    if (!next.ok() || !next->has_value()) break;
    ++got;
  }
  s.stream_chunks_per_s.push_back(got / absl::ToDoubleSeconds(absl::Now() - start));
  const int calls = n / 5;
  start = absl::Now();
  for (int i = 0; i < calls; ++i) (void)pools.execute(kPool, "blob", {{"size", kChunkBytes}});
  s.unary_calls_per_s.push_back(calls / absl::ToDoubleSeconds(absl::Now() - start));
  for (int i = 0; i < env.Reps(15); ++i) {
    StreamReader spin = pools.execute_stream(kPool, "spin", nlohmann::json::object());
    if (!spin.Next().ok()) continue;
    const absl::Time cancelled = absl::Now();
    spin.Cancel();
    const absl::Time limit = cancelled + absl::Seconds(10);
    while (absl::Now() < limit && pools.stats(kPool)->in_flight > 0) absl::SleepFor(absl::Microseconds(100));
    s.cancel_to_free_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - cancelled));
  }
}

}  // namespace

nlohmann::json RunStreaming(BenchEnv& env) {
  nlohmann::json out = {{"python", env.flags.python}, {"rounds", env.Rounds()}, {"chunk_bytes", kChunkBytes}};
  struct Transport {
    const char* name;
    WorkerTransport transport;
  };
  constexpr Transport kTransports[] = {
      {"shm", WorkerTransport::kShm}, {"native", WorkerTransport::kNative}, {"grpcio", WorkerTransport::kGrpcio}};
  constexpr int kCount = static_cast<int>(std::size(kTransports));
  std::unique_ptr<PoolManager> pools[kCount];
  for (int i = 0; i < kCount; ++i) {
    PoolSpec spec = ProcessPool(1);
    spec.transport = kTransports[i].transport;
    spec.label = absl::StrCat("stream_", kTransports[i].name);
    spec.adapter = "stream_bench:StreamBench";
    spec.python_path = {SNAKEPIT_BENCH_PYTHON_DIR};
    absl::StatusOr<std::unique_ptr<PoolManager>> started = StartPool(env, spec);
    if (!started.ok()) return WithError(out, started.status());
    pools[i] = std::move(*started);
  }
  Sample samples[kCount];
  for (int round = 0; round < env.Rounds(); ++round) {
    for (int i = 0; i < kCount; ++i) Round(env, *pools[i], samples[i]);
  }
  for (int i = 0; i < kCount; ++i) {
    const char* name = kTransports[i].name;
    const Sample& s = samples[i];
    nlohmann::json t = {
        {"first_chunk_us", Median(s.first_chunk_us)},
        {"unary_call_us", Median(s.unary_call_us)},
        {"stream_chunks_per_s", Median(s.stream_chunks_per_s)},
        {"unary_calls_per_s", Median(s.unary_calls_per_s)},
        {"cancel_to_free_ms", Median(s.cancel_to_free_ms)},
        {"cancel_to_free_ms_max", s.cancel_to_free_ms.empty()
                                      ? 0.0
                                      : *std::max_element(s.cancel_to_free_ms.begin(), s.cancel_to_free_ms.end())}};
    if (t["unary_calls_per_s"].get<double>() > 0) {
      t["chunks_per_unary_call"] = t["stream_chunks_per_s"].get<double>() / t["unary_calls_per_s"].get<double>();
    }
    if (!s.error.empty()) t["error"] = s.error;
    out[name] = t;
    std::printf(
        "  %s: first chunk %.0f us (unary call %.0f us), %.0f chunks/s vs %.0f unary calls/s, "
        "cancel to slot free %.1f ms\n",
        name, t["first_chunk_us"].get<double>(), t["unary_call_us"].get<double>(),
        t["stream_chunks_per_s"].get<double>(), t["unary_calls_per_s"].get<double>(),
        t["cancel_to_free_ms"].get<double>());
  }
  return out;
}

}  // namespace snakepit::bench
