// The checks a call's command name and args pass at the API entry, before
// anything is sent to a worker. Only what a worker would refuse, or what
// would crash the host on the way, is refused here.
#ifndef SNAKEPIT_SRC_COMMON_CALL_ARGS_H_
#define SNAKEPIT_SRC_COMMON_CALL_ARGS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace snakepit::internal {

// How deep args (and, in the worker, results) may nest: an array or object
// at the top is level 1. Deeper JSON is refused on both sides rather than
// recursing through it (nlohmann's dump and Python's json module recurse).
// python/snakepit_worker/dispatch.py holds the same number.
inline constexpr std::size_t kMaxArgsDepth = 256;

// OK, or INVALID_ARGUMENT when `command` is empty or not valid UTF-8 (the
// wire carries it as a protobuf string, which must be UTF-8).
absl::Status CheckCommandName(std::string_view command);

// The compact JSON text of `args`, or INVALID_ARGUMENT naming the first
// value JSON cannot carry, by its path from "args": nesting deeper than
// kMaxArgsDepth, a NaN or infinite number ("args.x[3] is NaN; JSON cannot
// carry it"), a string or key that is not valid UTF-8. Never recurses:
// any depth is safe.
absl::StatusOr<std::string> EncodeArgs(const nlohmann::json& args);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_CALL_ARGS_H_
