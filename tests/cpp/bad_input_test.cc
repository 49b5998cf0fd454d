// Bad input from the Python side: adapters that flood stdout/stderr, crash
// in C code, or return more than the message limit. Each must end in a
// clear status for the one call concerned and leave the pool working.
// (The rest of the catalogue in docs/reliability.md is tested where the
// feature lives: config_test, execute_test, queue_test, worker_death_test.)
#include <signal.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snakepit/logging.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Captures the library's log (worker output is logged at debug level) for
// the test's lifetime and restores the previous logger after.
class CapturedLog {
 public:
  CapturedLog() : previous_(logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto captured = std::make_shared<spdlog::logger>("captured", sink);
    captured->set_level(spdlog::level::debug);
    set_logger(std::move(captured));
  }
  ~CapturedLog() { set_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // Whether `line` has been logged; thread-safe (the sink is _mt, and
  // flushes each line into `text_` under its own lock).
  bool Contains(const std::string& line) {
    logger()->flush();
    std::lock_guard<std::mutex> lock(read_mu_);
    return text_.str().find(line) != std::string::npos;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::mutex read_mu_;
  std::ostringstream text_;
};

TEST(BadInput, HeavyPrintingNeitherBlocksTheWorkerNorCorruptsItsReplies) {
  CapturedLog log;
  // setup() writes ~1 MiB to each stream before the readiness record.
  auto pools =
      testing::StartOrDie(testing::MakeConfig({{{"name", "n"}, {"pool_size", 1}, {"adapter", "noisy:NoisyAdapter"}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r =
      pools->execute("n", "shout", {{"lines", 20000}}, CallOptions{.timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["lines"], 20000);
  EXPECT_TRUE(pools->execute("n", "shout", {{"lines", 1}}).ok());
  // No line is lost on the way to the host's log, from either stream.
  for (const char* line : {"setup python stdout 19999", "setup python stderr 19999", "setup C-level stdout 19900",
                           "shout python stdout 19999", "shout python stderr 19999", "shout C-level stderr 19900"}) {
    EXPECT_TRUE(testing::WaitFor([&] { return log.Contains(line); }, milliseconds(5000))) << line;
  }
}

TEST(BadInput, AdapterThatSegfaultsFailsItsCallOnlyAndIsReplaced) {
  testing::EventLog events;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "s"}, {"pool_size", 1}})}), events.Handler());
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("s", "segfault");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ASSERT_TRUE(events.WaitFor(EventType::kWorkerCrashed, "", 1, milliseconds(5000)));
  EXPECT_EQ(events.Of(EventType::kWorkerCrashed)[0].signal, SIGSEGV);
  // The replacement serves the next call.
  absl::StatusOr<nlohmann::json> next =
      pools->execute("s", "ping", {}, CallOptions{.timeout = std::chrono::seconds(20)});
  EXPECT_TRUE(next.ok()) << next.status();
}

TEST(BadInput, ReplyOverTheMessageLimitIsResourceExhaustedAndTheWorkerLives) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({testing::WithFixtureAdapter({{"name", "m"}, {"pool_size", 1}, {"max_message_mb", 1}})}));
  ASSERT_NE(pools, nullptr);
  const int pid = testing::WorkerPids(*pools, "m").at(0);
  absl::StatusOr<nlohmann::json> r = pools->execute("m", "big_reply", {{"bytes", 2 << 20}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("max_message_mb")) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("big_reply")) << r.status();
  // A reply just under the limit still goes through, on the same worker.
  absl::StatusOr<nlohmann::json> small = pools->execute("m", "big_reply", {{"bytes", 512 << 10}});
  EXPECT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(testing::WorkerPids(*pools, "m"), std::vector<int>{pid});
}

}  // namespace
}  // namespace snakepit
