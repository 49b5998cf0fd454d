// The checks a call's command name and args pass at the API entry, before
// anything is sent to a worker. Only what a worker would refuse, or what
// would crash the host on the way, is refused here.
#ifndef SNAKEPIT_SRC_COMMON_CALL_ARGS_H_
#define SNAKEPIT_SRC_COMMON_CALL_ARGS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

// OK, or INVALID_ARGUMENT when `command` is empty or not valid UTF-8 (the
// wire carries it as a protobuf string, which must be UTF-8).
absl::Status CheckCommandName(std::string_view command);

// The compact JSON text of `args`, or INVALID_ARGUMENT when a string or
// key in it is not valid UTF-8.
absl::StatusOr<std::string> EncodeArgs(const nlohmann::json& args);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_CALL_ARGS_H_
