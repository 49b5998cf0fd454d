#include "common/call_args.h"

#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

using Json = nlohmann::json;

}  // namespace

absl::Status CheckCommandName(std::string_view command) {
  if (command.empty()) return absl::InvalidArgumentError("the command name is empty");
  try {
    // Strict: throws on invalid UTF-8; the text itself is not needed.
    (void)Json(std::string(command)).dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the command name ", Json(std::string(command)).dump(-1, ' ', true, Json::error_handler_t::replace),
        " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeArgs(const Json& args) {
  try {
    // Strict: invalid UTF-8 in a string is the caller's error, reported as
    // such, never silently replaced.
    return args.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("args cannot be encoded as JSON: ", e.what()));
  }
}

}  // namespace snakepit::internal
