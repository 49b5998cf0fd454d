// Fuzz target: what comes back from a worker. The bytes are read as an
// ExecuteResponse (as gRPC would hand it over) and decoded into a Reply or
// a status; the first bytes also go through the JSON path the router uses
// for call args (parse, then strict dump). Never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"
#include "worker/reply_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  snakepit::v1::ExecuteResponse response;
  if (response.ParseFromArray(data, static_cast<int>(size))) {
    absl::StatusOr<snakepit::Reply> reply = snakepit::internal::DecodeResponse(response, "fuzz-0", "cmd");
    if (reply.ok() && reply->result.is_discarded()) __builtin_trap();  // invalid JSON must be an error
  }
  const nlohmann::json args = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (!args.is_discarded()) {
    try {
      (void)args.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    } catch (const nlohmann::json::type_error&) {
      // Invalid UTF-8 inside a string: the router turns this into
      // INVALID_ARGUMENT (ExecuteTest.InvalidUtf8ArgsAreRejectedBeforeSending).
    }
  }
  return 0;
}
