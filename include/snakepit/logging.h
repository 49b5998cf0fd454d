// The library logs through one spdlog logger. Replace it to route or
// silence snakepit's output. Worker processes' output is logged through it
// too, tagged "[<pool>-<worker id> pid <pid>]": a Python log record
// (logging.warning() in a command) at the record's level, the worker's own
// routine records ("ready", "stopped") at debug, and plain stdout/stderr
// lines (print()) at info.
#ifndef SNAKEPIT_LOGGING_H_
#define SNAKEPIT_LOGGING_H_

#include <memory>

#include "snakepit/export.h"
#include "spdlog/logger.h"

namespace snakepit {

// The current logger. Default: a stderr logger named "snakepit" at info.
// Thread-safe.
SNAKEPIT_EXPORT std::shared_ptr<spdlog::logger> logger();

// Replaces the logger for every pool, live ones included. nullptr silences
// the library. Thread-safe.
SNAKEPIT_EXPORT void set_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace snakepit

#endif  // SNAKEPIT_LOGGING_H_
