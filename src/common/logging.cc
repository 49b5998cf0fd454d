#include "snakepit/logging.h"

#include <atomic>

#include "common/foreign_logs.h"
#include "spdlog/sinks/null_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace snakepit {
namespace {

std::shared_ptr<spdlog::logger> MakeDefault() {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto log = std::make_shared<spdlog::logger>("snakepit", std::move(sink));
  log->set_level(spdlog::level::info);
  return log;
}

std::shared_ptr<spdlog::logger> MakeSilent() {
  return std::make_shared<spdlog::logger>("snakepit", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// Not registered in spdlog's global registry: the application's registry
// stays its own. std::atomic<shared_ptr> is C++20.
std::atomic<std::shared_ptr<spdlog::logger>>& Current() {
  static auto* current = new std::atomic<std::shared_ptr<spdlog::logger>>(MakeDefault());
  // After `current` exists: protobuf's and gRPC's lines go to logger().
  static const bool routed = (internal::RouteForeignLogs(), true);
  (void)routed;
  return *current;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() { return Current().load(std::memory_order_acquire); }

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  Current().store(logger ? std::move(logger) : MakeSilent(), std::memory_order_release);
}

}  // namespace snakepit
