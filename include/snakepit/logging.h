// The library logs through one spdlog logger. Replace it to route or
// silence snakepit's output; worker processes' stdout/stderr lines are
// logged through it at debug level with the worker's id.
#ifndef SNAKEPIT_LOGGING_H_
#define SNAKEPIT_LOGGING_H_

#include <memory>

#include "spdlog/logger.h"

namespace snakepit {

// The current logger. Default: a stderr logger named "snakepit" at info.
// Thread-safe.
std::shared_ptr<spdlog::logger> logger();

// Replaces the logger for every pool, live ones included. nullptr silences
// the library. Thread-safe.
void set_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace snakepit

#endif  // SNAKEPIT_LOGGING_H_
