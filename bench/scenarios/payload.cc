// Scenario 8: payload size. 1 KiB, 1 MiB, 16 MiB and 64 MiB sent and
// returned (a round trip moves twice the size), one caller:
//   library_attachments  PoolManager::call of echo_attachments, one attachment
//   library_json         PoolManager::execute of echo, {"data": "<size> chars"}
//   library_malloc_tuned library_attachments on a pool whose workers keep
//                        freed memory mapped (GLIBC_TUNABLES in the pool's
//                        env): what page faults cost the default

//   stub_python          bare stub to a Python worker started by hand,
//                        echo_attachments (synchronous API)
//   stub_python_callback the same through gRPC's callback API, which the
//                        library uses
//   cpp_echo             bare stub to the C++ echo server, one attachment
//   raw_socket           the bytes over a Unix socket and back: the floor
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "scenarios/pools.h"
#include "support/bare_stub.h"
#include "support/direct_worker.h"
#include "support/echo_process.h"
#include "support/latency.h"
#include "support/raw_echo_client.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using RoundTrip = std::function<absl::Status(const std::string& payload)>;

constexpr char kMallocTunables[] = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=2147483647";

struct Size {
  const char* label;
  std::size_t bytes;
  int reps;  // timed round trips
  // One untimed round trip first: worth it where a call is short enough
  // for first-use costs (connection buffers, allocator) to show.
  bool warm;
};

// Sized for the 10-minute budget: a 64 MiB JSON round trip through the
// library takes seconds here.
constexpr Size kSizes[] = {{"1 KiB", 1 << 10, 300, true},
                           {"1 MiB", 1 << 20, 30, true},
                           {"16 MiB", 16 << 20, 5, false},
                           {"64 MiB", 64 << 20, 2, false}};

nlohmann::json Measure(const BenchEnv& env, const char* path, const Size& size, const std::string& payload,
                       const RoundTrip& round_trip) {
  nlohmann::json out = {{"path", path}, {"size", size.label}, {"bytes", size.bytes}};
  if (size.warm) {
    if (absl::Status warm = round_trip(payload); !warm.ok()) return WithError(out, warm);
  }
  LatencyRecorder latency;
  for (int i = 0; i < env.Reps(size.reps); ++i) {
    const Clock::time_point start = Clock::now();
    const absl::Status status = round_trip(payload);
    latency.Add(Clock::now() - start);
    if (!status.ok()) return WithError(out, status);
  }
  const LatencySummary s = latency.Summarize();
  out["latency"] = s.ToJson();
  // Bytes moved (there and back) per second, at the median.
  out["mib_per_s"] = 2.0 * static_cast<double>(size.bytes) / (1 << 20) / (s.p50_us / 1e6);
  std::printf("  %-20s %-7s p50 %9.0f us  %7.0f MiB/s\n", path, size.label, s.p50_us, out["mib_per_s"].get<double>());
  return out;
}

absl::Status CheckSize(std::size_t got, std::size_t want) {
  if (got == want) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("echoed ", got, " bytes, sent ", want));
}

}  // namespace

nlohmann::json RunPayload(BenchEnv& env) {
  nlohmann::json out = {{"note", "round trip: the payload is sent and returned"}};
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
  absl::StatusOr<std::unique_ptr<EchoProcess>> echo = EchoProcess::Start(env.flags.echo_server, env.scratch.path());
  if (!echo.ok()) return WithError(out, echo.status());
  absl::StatusOr<std::unique_ptr<RawEchoClient>> raw = RawEchoClient::Connect((*echo)->raw_socket());
  if (!raw.ok()) return WithError(out, raw.status());
  BareStub python_stub((*worker)->target());
  BareStub echo_stub((*echo)->grpc_target());

  PoolManager& library = **pools;
  PoolManager& tuned_library = **tuned;
  const std::pair<const char*, RoundTrip> paths[] = {
      {"library_attachments",
       [&](const std::string& payload) {
         absl::StatusOr<Reply> reply =
             library.call(kPool, "echo_attachments", nlohmann::json::object(), CallOptions{.attachments = {payload}});
         if (!reply.ok()) return reply.status();
         if (reply->attachments.size() != 1) return absl::DataLossError("no attachment echoed");
         return CheckSize(reply->attachments[0].size(), payload.size());
       }},
      {"library_malloc_tuned",
       [&](const std::string& payload) {
         absl::StatusOr<Reply> reply = tuned_library.call(kPool, "echo_attachments", nlohmann::json::object(),
                                                          CallOptions{.attachments = {payload}});
         if (!reply.ok()) return reply.status();
         if (reply->attachments.size() != 1) return absl::DataLossError("no attachment echoed");
         return CheckSize(reply->attachments[0].size(), payload.size());
       }},
      {"library_json",
       [&](const std::string& payload) {
         absl::StatusOr<nlohmann::json> result = library.execute(kPool, "echo", {{"data", payload}});
         if (!result.ok()) return result.status();
         return CheckSize(result->at("data").get_ref<const std::string&>().size(), payload.size());
       }},
      {"stub_python", [&](const std::string& payload) { return python_stub.Call("echo_attachments", payload); }},
      {"stub_python_callback",
       [&](const std::string& payload) {
         snakepit::v1::ExecuteRequest request = python_stub.Request("echo_attachments", "{}");
         request.add_attachments(payload);
         snakepit::v1::ExecuteResponse response;
         return CheckReply(python_stub.ExecuteCallback(request, &response), response,
                           static_cast<std::int64_t>(payload.size()));
       }},
      {"cpp_echo", [&](const std::string& payload) { return echo_stub.Call("echo_attachments", payload); }},
      {"raw_socket",
       [&](const std::string& payload) {
         std::string reply;
         if (absl::Status s = (*raw)->RoundTrip(payload, &reply); !s.ok()) return s;
         return CheckSize(reply.size(), payload.size());
       }},
  };
  for (const Size& size : kSizes) {
    const std::string payload(size.bytes, 'x');
    for (const auto& [path, round_trip] : paths) out["points"].push_back(Measure(env, path, size, payload, round_trip));
  }
  return out;
}

}  // namespace snakepit::bench
