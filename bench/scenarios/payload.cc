// Scenario 8: payload size. 1 KiB, 1 MiB, 16 MiB and 64 MiB sent and
// returned (a round trip moves twice the size), one caller:
//   library_attachments  PoolManager::call of echo_attachments, one attachment:
//                        a CopyAttachment of the payload (snakepit/call.h),
//                        as a caller that keeps its data sends it
//   library_json         PoolManager::execute of echo, {"data": "<size> chars"}
//   library_malloc_tuned library_attachments on a pool whose workers keep
//                        freed memory mapped (GLIBC_TUNABLES in the pool's
//                        env): what page faults cost the default
//   stub_python          bare stub to a Python worker started by hand,
//                        echo_attachments (synchronous API)
//   stub_python_callback the same through gRPC's callback API, which the
//                        library uses
//   cpp_echo             bare stub to the C++ echo server, one attachment
// and the warm floors, measured in the same run:
//   raw_socket           the bytes over a Unix socket to a C++ echo and
//                        back into a buffer reused from call to call
//   shm                  the bytes through the library's shared-memory ring
//                        (src/shm) to a C++ echo child and back, copied out
//                        into a reused buffer (support/shm_echo.h)
//   memcpy               the bytes copied into a reused buffer and back:
//                        the two copies of a round trip, no other process
// Each size: one untimed round trip per path (warm-up), then samples in
// which every path runs once, back to back, in an order that alternates
// between samples. Every path is reported as a ratio to raw_socket of the
// same run: of the medians, and the median of the per-sample ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scenarios/pools.h"
#include "scenarios/verdict.h"
#include "support/bare_stub.h"
#include "support/direct_worker.h"
#include "support/echo_process.h"
#include "support/latency.h"
#include "support/raw_echo_client.h"
#include "support/rounds.h"
#include "support/shm_echo.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using RoundTrip = std::function<absl::Status(const std::string& payload)>;

constexpr char kMallocTunables[] = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=2147483647";

struct Size {
  const char* label;
  std::size_t bytes;
  int samples;  // timed round trips of each path (a third with --quick)
};

// At least 20 samples at 16 MiB and 10 at 64 MiB (issue 16): a 64 MiB
// JSON round trip through the library takes seconds here, so the larger
// sizes are where the scenario's time goes.
constexpr Size kSizes[] = {
    {"1 KiB", 1 << 10, 200}, {"1 MiB", 1 << 20, 30}, {"16 MiB", 16 << 20, 21}, {"64 MiB", 64 << 20, 11}};

constexpr char kFloor[] = "raw_socket";

struct Path {
  std::string name;
  RoundTrip round_trip;
  LatencyRecorder latency;
  std::vector<double> samples_us;  // in sample order, for the per-sample ratios
};

absl::Status CheckSize(std::size_t got, std::size_t want) {
  if (got == want) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("echoed ", got, " bytes, sent ", want));
}

absl::Status Named(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

// Warm-up, then `samples` samples of every path, interleaved. The first
// error stops the size.
absl::Status Sample(std::vector<Path>& paths, const std::string& payload, int samples) {
  for (Path& p : paths) {
    p.latency = LatencyRecorder();
    p.samples_us.clear();
    if (absl::Status warm = p.round_trip(payload); !warm.ok()) return Named(p.name, warm);
  }
  for (int i = 0; i < samples; ++i) {
    for (std::size_t k = 0; k < paths.size(); ++k) {
      Path& p = paths[i % 2 == 0 ? k : paths.size() - 1 - k];
      const Clock::time_point start = Clock::now();
      const absl::Status status = p.round_trip(payload);
      const Clock::duration took = Clock::now() - start;
      if (!status.ok()) return Named(p.name, status);
      p.latency.Add(took);
      p.samples_us.push_back(std::chrono::duration<double, std::micro>(took).count());
    }
  }
  return absl::OkStatus();
}

// Each path of one size against the floor of the same samples.
void Report(const BenchEnv& env, const Size& size, const std::vector<Path>& paths, nlohmann::json& out) {
  const Path& floor = *std::find_if(paths.begin(), paths.end(), [](const Path& p) { return p.name == kFloor; });
  const LatencySummary floor_p50 = floor.latency.Summarize();
  for (const Path& p : paths) {
    const LatencySummary s = p.latency.Summarize();
    std::vector<double> ratios;
    for (std::size_t i = 0; i < p.samples_us.size(); ++i) ratios.push_back(p.samples_us[i] / floor.samples_us[i]);
    const double vs_floor = s.p50_us / floor_p50.p50_us;
    nlohmann::json j = {{"path", p.name},
                        {"size", size.label},
                        {"bytes", size.bytes},
                        {"samples", s.count},
                        {"latency", s.ToJson()},
                        // Bytes moved (there and back) per second, at the median.
                        {"mib_per_s", 2.0 * static_cast<double>(size.bytes) / (1 << 20) / (s.p50_us / 1e6)},
                        {"vs_floor_p50", vs_floor},
                        {"vs_floor_per_sample_median", Median(ratios)}};
    std::printf("  %-20s %-7s p50 %10.0f us  %7.0f MiB/s  vs %s %7.2fx (per-sample median %7.2fx)  n=%lld\n",
                p.name.c_str(), size.label, s.p50_us, j["mib_per_s"].get<double>(), kFloor, vs_floor,
                j["vs_floor_per_sample_median"].get<double>(), static_cast<long long>(s.count));
    out["points"].push_back(j);
    if (p.name == "library_attachments" && size.bytes == (16u << 20)) {
      PrintVerdict(env, "16 MiB attachment round trip at most 2x the warm-socket floor (issue 16)", vs_floor <= 2.0,
                   absl::StrFormat("%.2fx: %.1f vs %.1f ms", vs_floor, s.p50_us / 1000, floor_p50.p50_us / 1000));
    }
  }
}

}  // namespace

nlohmann::json RunPayload(BenchEnv& env) {
  nlohmann::json out = {{"note", "round trip: the payload is sent and returned"},
                        {"worker_transport", WorkerTransportName(ProcessPool(1).transport)},
                        {"floor", kFloor},
                        {"order", "paths interleaved, order alternating between samples"}};
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = StartPool(env, ProcessPool(1));
  if (!pools.ok()) return WithError(out, pools.status());
  // glibc gives freed blocks of 128 KiB and more back to the kernel, so the
  // next message of that size faults in fresh pages; these settings keep
  // them (mmap threshold 256 MiB, never trim).
  PoolSpec tuned_spec = ProcessPool(1);
  tuned_spec.env = {{"GLIBC_TUNABLES", std::string(kMallocTunables)}};
  absl::StatusOr<std::unique_ptr<PoolManager>> tuned = StartPool(env, tuned_spec);
  if (!tuned.ok()) return WithError(out, tuned.status());
  out["malloc_tunables"] = kMallocTunables;
  absl::StatusOr<std::unique_ptr<DirectWorker>> worker = DirectWorker::Start(
      {.python = env.flags.python, .python_path = env.flags.python_path, .socket = env.scratch.File("payload.sock")});
  if (!worker.ok()) return WithError(out, worker.status());
  out["stub_worker_transport"] = (*worker)->ready_record().value("transport", "?");
  absl::StatusOr<std::unique_ptr<EchoProcess>> echo = EchoProcess::Start(env.flags.echo_server, env.scratch.path());
  if (!echo.ok()) return WithError(out, echo.status());
  absl::StatusOr<std::unique_ptr<RawEchoClient>> raw = RawEchoClient::Connect((*echo)->raw_socket());
  if (!raw.ok()) return WithError(out, raw.status());
  BareStub python_stub((*worker)->target());
  BareStub echo_stub((*echo)->grpc_target());

  PoolManager& library = **pools;
  PoolManager& tuned_library = **tuned;
  // The floors' receive buffers live across calls: warm, as a server that
  // reuses its buffers has them. The shared-memory echo is started per
  // size, with rings that hold one message of that size.
  std::string socket_reply, shm_reply, copy_there, copy_back;
  std::unique_ptr<ShmEcho> shm;
  const auto attachments = [](PoolManager& pm, const std::string& payload) -> absl::Status {
    absl::StatusOr<std::string> copy = CopyAttachment(payload);
    if (!copy.ok()) return copy.status();
    // Moved in, not braced: `.attachments = {buffer}` builds the vector
    // from an initializer_list, whose elements are const, and so copies
    // the buffer into fresh memory (at 64 MiB that copy cost 7x the
    // round trip, docs/performance.md).
    CallOptions options;
    options.attachments.push_back(*std::move(copy));
    absl::StatusOr<Reply> reply = pm.call(kPool, "echo_attachments", nlohmann::json::object(), std::move(options));
    if (!reply.ok()) return reply.status();
    if (reply->attachments.size() != 1) return absl::DataLossError("no attachment echoed");
    return CheckSize(reply->attachments[0].size(), payload.size());
  };
  std::vector<Path> paths;
  const auto add = [&paths](const char* name, RoundTrip round_trip) {
    paths.push_back({name, std::move(round_trip), {}, {}});
  };
  add("library_attachments", [&](const std::string& payload) { return attachments(library, payload); });
  add("library_malloc_tuned", [&](const std::string& payload) { return attachments(tuned_library, payload); });
  add("library_json", [&](const std::string& payload) {
    absl::StatusOr<nlohmann::json> result = library.execute(kPool, "echo", {{"data", payload}});
    if (!result.ok()) return result.status();
    return CheckSize(result->at("data").get_ref<const std::string&>().size(), payload.size());
  });
  add("stub_python", [&](const std::string& payload) { return python_stub.Call("echo_attachments", payload); });
  add("stub_python_callback", [&](const std::string& payload) {
    snakepit::v1::ExecuteRequest request = python_stub.Request("echo_attachments", "{}");
    request.add_attachments(payload);
    snakepit::v1::ExecuteResponse response;
    return CheckReply(python_stub.ExecuteCallback(request, &response), response,
                      static_cast<std::int64_t>(payload.size()));
  });
  add("cpp_echo", [&](const std::string& payload) { return echo_stub.Call("echo_attachments", payload); });
  add(kFloor, [&](const std::string& payload) {
    if (absl::Status s = (*raw)->RoundTrip(payload, &socket_reply); !s.ok()) return s;
    return CheckSize(socket_reply.size(), payload.size());
  });
  add("shm", [&](const std::string& payload) { return shm->RoundTrip(payload.data(), payload.size(), &shm_reply); });
  add("memcpy", [&](const std::string& payload) {
    copy_there.resize(payload.size());
    copy_back.resize(payload.size());
    std::memcpy(copy_there.data(), payload.data(), payload.size());
    std::memcpy(copy_back.data(), copy_there.data(), copy_there.size());
    return CheckSize(copy_back.size(), payload.size());
  });

  for (const Size& size : kSizes) {
    absl::StatusOr<std::unique_ptr<ShmEcho>> started = ShmEcho::Start(size.bytes);
    if (!started.ok()) return WithError(out, started.status());
    shm = std::move(*started);
    const absl::Status sampled = Sample(paths, std::string(size.bytes, 'x'), env.Reps(size.samples));
    shm.reset();
    if (!sampled.ok()) {
      std::printf("  %-7s error: %s\n", size.label, sampled.ToString().c_str());
      out["points"].push_back(WithError({{"size", size.label}, {"bytes", size.bytes}}, sampled));
      continue;
    }
    Report(env, size, paths, out);
  }
  return out;
}

}  // namespace snakepit::bench
