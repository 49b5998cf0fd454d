// Scenarios 1 and 2, the baselines: the same no-op without the library.
//   stub_sync/python      a bare stub, synchronous API, to a Python worker
//                         started by hand (scenario 1's baseline)
//   stub_callback/python  the same through gRPC's callback API, which the
//                         library uses: separates the cost of that API and
//                         its thread hop from the router's own
//   stub_sync/cpp_echo    a bare stub to a C++ server of the same service
//                         (scenario 2: the call without Python)
//   raw_socket            2 bytes over a Unix socket and back: the floor
// and what the library does per call on top of a bare stub's work, in
// isolation: encode the args to JSON, parse the reply's JSON.
#include <chrono>
#include <string>

#include "benchmark/benchmark.h"
#include "micro/call_meter.h"
#include "micro/targets.h"

namespace snakepit::bench {
namespace {

using Clock = std::chrono::steady_clock;

enum class Api { kSync, kCallback };

void Stub(benchmark::State& state, BareStub* stub, pid_t server, Api api) {
  CallMeter meter(server);
  snakepit::v1::ExecuteResponse response;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    const snakepit::v1::ExecuteRequest request = stub->Request("echo", "{}");
    const grpc::Status status =
        api == Api::kSync ? stub->Execute(request, &response) : stub->ExecuteCallback(request, &response);
    meter.Add(Clock::now() - start);
    if (!status.ok() || !response.has_result()) {
      state.SkipWithError(status.ok() ? response.error().message().c_str() : status.error_message().c_str());
      break;
    }
    if (response.has_timing() && response.timing().finished_unix_ns() > 0) {
      const auto& t = response.timing();
      meter.AddPython(std::chrono::nanoseconds(t.finished_unix_ns() - t.started_unix_ns()),
                      std::chrono::nanoseconds(t.cpu_ns()));
    }
  }
  meter.Report(state);
}

void RawSocket(benchmark::State& state, RawEchoClient* raw, pid_t server) {
  CallMeter meter(server);
  const std::string message = "{}";
  std::string reply;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    const absl::Status status = raw->RoundTrip(message, &reply);
    meter.Add(Clock::now() - start);
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      break;
    }
  }
  meter.Report(state);
}

// What PoolManager::execute_async does to the args before sending.
void JsonArgsDump(benchmark::State& state) {
  const nlohmann::json args = nlohmann::json::object();
  for (auto _ : state) {
    std::string text = args.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    benchmark::DoNotOptimize(text);
  }
}

// What the reply decoder does with a no-op's result.
void JsonReplyParse(benchmark::State& state) {
  const std::string text = "{}";
  for (auto _ : state) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    benchmark::DoNotOptimize(parsed);
  }
}

}  // namespace

void RegisterBaselineBenchmarks(Targets* t) {
  const auto add = [](const char* name, auto fn) {
    benchmark::RegisterBenchmark(name, fn)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);
  };
  add("noop/stub_sync/python",
      [t](benchmark::State& s) { Stub(s, t->python_stub.get(), t->python->pid(), Api::kSync); });
  add("noop/stub_callback/python",
      [t](benchmark::State& s) { Stub(s, t->python_stub.get(), t->python->pid(), Api::kCallback); });
  add("noop/stub_sync/cpp_echo", [t](benchmark::State& s) { Stub(s, t->echo_stub.get(), t->echo->pid(), Api::kSync); });
  add("noop/raw_socket", [t](benchmark::State& s) { RawSocket(s, t->raw.get(), t->echo->pid()); });
  benchmark::RegisterBenchmark("client/json_args_dump", JsonArgsDump)->Unit(benchmark::kNanosecond);
  benchmark::RegisterBenchmark("client/json_reply_parse", JsonReplyParse)->Unit(benchmark::kNanosecond);
}

}  // namespace snakepit::bench
