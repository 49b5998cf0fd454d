#include "common/foreign_logs.h"

#include <grpc/support/log.h>

#include <mutex>
#include <string>

#include "google/protobuf/stubs/logging.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

void OnProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  spdlog::level::level_enum to = spdlog::level::err;
  switch (level) {
    case google::protobuf::LOGLEVEL_INFO:
      to = spdlog::level::info;
      break;
    case google::protobuf::LOGLEVEL_WARNING:
      to = spdlog::level::warn;
      break;
    default:  // ERROR; FATAL aborts after the handler returns
      break;
  }
  logger()->log(to, "protobuf: {} ({}:{})", message, file != nullptr ? file : "?", line);
}

void OnGrpcLog(gpr_log_func_args* args) {
  spdlog::level::level_enum to = spdlog::level::err;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) to = spdlog::level::debug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) to = spdlog::level::info;
  logger()->log(to, "grpc: {} ({}:{})", args->message != nullptr ? args->message : "",
                args->file != nullptr ? args->file : "?", args->line);
}

}  // namespace

void RouteForeignLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler(&OnProtobufLog);
    gpr_set_log_function(&OnGrpcLog);
  });
}

}  // namespace snakepit::internal
