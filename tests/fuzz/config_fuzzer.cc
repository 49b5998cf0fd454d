// Fuzz target: the JSON config parser and validator. Any input must give a
// Config or an INVALID_ARGUMENT naming the problem; never a crash, a hang
// or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "snakepit/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<snakepit::Config> config = snakepit::Config::FromJsonString(text);
  if (!config.ok() && config.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
  if (config.ok() && !config->Validate().ok()) __builtin_trap();  // what parses must validate
  return 0;
}
