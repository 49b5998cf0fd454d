// A worker's output reaches the library's logger (snakepit::set_logger):
// a command's logging.warning() at warn, print() at info, log.exception()
// at error with every traceback line, each tagged with the pool, worker
// and pid; the worker's own "ready" record at debug.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "snakepit/logging.h"
#include "spdlog/sinks/base_sink.h"
#include "test_support.h"

namespace snakepit {
namespace {

using namespace std::chrono_literals;

struct Line {
  spdlog::level::level_enum level;
  std::string text;
};

// Keeps every message the logger passes it, with its level.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<Line> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.push_back({msg.level, std::string(msg.payload.data(), msg.payload.size())});
  }
  void flush_() override {}

 private:
  std::vector<Line> lines_;  // under base_sink's mutex_
};

// Routes the library's logger to a CaptureSink, at every level, for the
// object's life; then puts the previous logger back.
struct CapturedLog {
  CapturedLog() : sink(std::make_shared<CaptureSink>()), previous(logger()) {
    auto capture = std::make_shared<spdlog::logger>("capture", sink);
    capture->set_level(spdlog::level::trace);
    set_logger(std::move(capture));
  }
  ~CapturedLog() { set_logger(previous); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::shared_ptr<CaptureSink> sink;
  std::shared_ptr<spdlog::logger> previous;
};

// Whether some captured line has `level` and is exactly `text`, or contains it.
bool Has(const std::vector<Line>& lines, spdlog::level::level_enum level, const std::string& text, bool exact) {
  for (const Line& line : lines) {
    if (line.level == level && (exact ? line.text == text : line.text.find(text) != std::string::npos)) return true;
  }
  return false;
}

std::string Dump(const std::vector<Line>& lines) {
  std::string out;
  for (const Line& line : lines) {
    out += std::string(spdlog::level::to_string_view(line.level).data()) + " " + line.text + "\n";
  }
  return out;
}

TEST(WorkerOutput, LogRecordsKeepTheirLevelAndPrintsAreInfo) {
  const CapturedLog captured;
  const std::shared_ptr<CaptureSink>& sink = captured.sink;

  {
    std::unique_ptr<PoolManager> pools = testing::StartOrDie(
        testing::MakeConfig({{{"name", "talk"}, {"pool_size", 1}, {"adapter", "log_levels:LogLevelsAdapter"}}}));
    ASSERT_NE(pools, nullptr);
    absl::StatusOr<nlohmann::json> reply = pools->execute("talk", "speak", {{"tag", "t1"}});
    ASSERT_TRUE(reply.ok()) << reply.status();
    const std::string tag = "[talk-0 pid " + std::to_string(reply->at("pid").get<int>()) + "] ";

    // The lines come through the output pipe, after the reply perhaps.
    const std::string last = tag + "log_levels_adapter: ValueError: boom t1";
    EXPECT_TRUE(testing::WaitFor([&] { return Has(sink->Lines(), spdlog::level::err, last, true); }, 10s))
        << Dump(sink->Lines());
    const std::vector<Line> lines = sink->Lines();
    EXPECT_TRUE(Has(lines, spdlog::level::warn, tag + "log_levels_adapter: warned t1", true)) << Dump(lines);
    EXPECT_TRUE(Has(lines, spdlog::level::info, tag + "printed t1", true)) << Dump(lines);
    EXPECT_TRUE(Has(lines, spdlog::level::err, tag + "log_levels_adapter: failed t1", true)) << Dump(lines);
    EXPECT_TRUE(Has(lines, spdlog::level::err, tag + "log_levels_adapter: Traceback (most recent call last):", true))
        << Dump(lines);
    EXPECT_TRUE(Has(lines, spdlog::level::debug, tag + "snakepit_worker: ready: pid", false)) << Dump(lines);
    EXPECT_FALSE(Has(lines, spdlog::level::info, "snakepit_worker: ready", false)) << Dump(lines);
    pools->shutdown();
  }
}

// A command's log records carry the trace id of the call's traceparent
// (CallOptions::metadata, docs/tracing.md); a call without one, none.
TEST(WorkerOutput, LogRecordsOfATracedCallCarryItsTraceId) {
  const CapturedLog captured;
  const std::shared_ptr<CaptureSink>& sink = captured.sink;
  {
    std::unique_ptr<PoolManager> pools = testing::StartOrDie(
        testing::MakeConfig({{{"name", "talk"}, {"pool_size", 1}, {"adapter", "log_levels:LogLevelsAdapter"}}}));
    ASSERT_NE(pools, nullptr);
    const CallOptions traced{.metadata = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}};
    absl::StatusOr<nlohmann::json> reply = pools->execute("talk", "speak", {{"tag", "t2"}}, traced);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(pools->execute("talk", "speak", {{"tag", "t3"}}).ok());
    const std::string tag = "[talk-0 pid " + std::to_string(reply->at("pid").get<int>()) + "] ";
    const std::string traced_line = tag + "log_levels_adapter: [trace_id=0af7651916cd43dd8448eb211c80319c] warned t2";
    EXPECT_TRUE(testing::WaitFor(
        [&] { return Has(sink->Lines(), spdlog::level::warn, tag + "log_levels_adapter: warned t3", true); }, 10s))
        << Dump(sink->Lines());
    const std::vector<Line> lines = sink->Lines();
    EXPECT_TRUE(Has(lines, spdlog::level::warn, traced_line, true)) << Dump(lines);
    EXPECT_TRUE(Has(lines, spdlog::level::err,
                    tag + "log_levels_adapter: [trace_id=0af7651916cd43dd8448eb211c80319c] Traceback", false))
        << Dump(lines);
    pools->shutdown();
  }
}

}  // namespace
}  // namespace snakepit
