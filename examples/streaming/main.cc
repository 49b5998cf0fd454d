// streaming: a token generator consumed chunk by chunk, then cancelled.
//
// Pool "llm" runs tokens.py's adapter, whose "generate" command is a Python
// generator yielding one token at a time (a stand-in for a language model).
// The program
//   1. reads a whole short stream with StreamReader::Next(), token by token;
//   2. starts a long one (1000 tokens) and cancels it after kTokens tokens:
//      Next() then returns CANCELLED, no token comes after it, and the
//      worker's generator is closed at its next yield;
//   3. shows that the worker's slot is free again soon after (the pool
//      serves the next call), and that the worker saw the cancel;
//   4. streams once more with the callback form and a std::stop_token.
// The exit status is 1 if anything differs from that.
//
// docs/streaming.md explains streams, backpressure and cancellation.
#include <chrono>
#include <cstdio>
#include <future>
#include <stop_token>
#include <string>

#include "snakepit/snakepit.h"

namespace {

using std::chrono::milliseconds;

constexpr int kTokens = 5;

constexpr const char* kConfig = R"({
  "pools": [{"name": "llm", "pool_size": 1, "adapter": "tokens:TokenAdapter", "stream_buffer": 4}]
})";

int Fail(const std::string& what) {
  std::fprintf(stderr, "streaming example: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<snakepit::Config> config = snakepit::Config::FromJsonString(kConfig);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  config->pools[0].python_path.push_back(SNAKEPIT_EXAMPLE_DIR);
  absl::StatusOr<std::unique_ptr<snakepit::PoolManager>> pools = snakepit::PoolManager::Start(*config);
  if (!pools.ok()) return Fail(std::string(pools.status().message()));
  snakepit::PoolManager& pm = **pools;

  // 1. A whole stream, token by token.
  snakepit::StreamReader short_stream = pm.execute_stream("llm", "generate", {{"prompt", "hi"}, {"max_tokens", 8}});
  std::string text;
  while (true) {
    absl::StatusOr<std::optional<snakepit::Chunk>> next = short_stream.Next();
    if (!next.ok()) return Fail(std::string(next.status().message()));
    if (!next->has_value()) break;
    text += (**next).data["token"].get<std::string>() + " ";
  }
  std::printf("whole stream: %s\n", text.c_str());

  // 2. A long stream, cancelled after kTokens tokens.
  snakepit::StreamReader reader = pm.execute_stream("llm", "generate", {{"prompt", "tell me"}, {"max_tokens", 1000}},
                                                    {.timeout = milliseconds(30'000)});
  for (int i = 0; i < kTokens; ++i) {
    absl::StatusOr<std::optional<snakepit::Chunk>> next = reader.Next();
    if (!next.ok() || !next->has_value()) return Fail("the long stream ended early");
    std::printf("token %d: %s\n", i, (**next).data["token"].get<std::string>().c_str());
  }
  const auto cancelled_at = std::chrono::steady_clock::now();
  reader.Cancel();
  absl::StatusOr<std::optional<snakepit::Chunk>> after = reader.Next();
  if (!absl::IsCancelled(after.status())) return Fail("a token came after the cancel");
  std::printf("cancelled after %d tokens: %s\n", kTokens, after.status().ToString().c_str());

  // 3. The slot is free again: the next call runs on the same worker.
  absl::StatusOr<nlohmann::json> stopped = pm.execute("llm", "stopped_early_count");
  if (!stopped.ok()) return Fail(std::string(stopped.status().message()));
  const auto freed_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - cancelled_at).count();
  std::printf("next call served %lld ms after the cancel; generators the worker closed: %s\n",
              static_cast<long long>(freed_ms), stopped->dump().c_str());
  if (stopped->get<int>() != 1) return Fail("the worker did not see the cancel");

  // 4. The callback form, stopped through a std::stop_token.
  std::stop_source stop;
  std::promise<absl::Status> done;
  int seen = 0;  // touched by the chunk callback only, one chunk at a time
  pm.execute_stream(
      "llm", "generate", {{"prompt", "again"}, {"max_tokens", 1000}}, {.stop_token = stop.get_token()},
      [&seen, &stop](snakepit::Chunk) {
        if (++seen == kTokens) stop.request_stop();
      },
      [&done](absl::Status status) { done.set_value(std::move(status)); });
  const absl::Status end = done.get_future().get();
  std::printf("callback stream: %d tokens, then %s\n", seen, end.ToString().c_str());
  if (!absl::IsCancelled(end) || seen != kTokens) return Fail("the callback stream did not stop at the cancel");
  pm.shutdown();
  return 0;
}
