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
  auto sink = std::make_shared<CaptureSink>();
  auto capture = std::make_shared<spdlog::logger>("capture", sink);
  capture->set_level(spdlog::level::trace);
  const std::shared_ptr<spdlog::logger> previous = logger();
  set_logger(capture);

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
  set_logger(previous);
}

}  // namespace
}  // namespace snakepit
