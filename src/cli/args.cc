// Option helpers the commands share: seconds, whole numbers, usage errors.
#include <cmath>
#include <cstdio>
#include <limits>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"

namespace snakepit::cli {

std::optional<std::chrono::milliseconds> ParseSeconds(const std::string& flag, const std::string& text,
                                                      std::string* error) {
  double seconds = 0;
  // !(seconds > 0) also refuses NaN, which compares false with everything.
  if (!absl::SimpleAtod(text, &seconds) || !std::isfinite(seconds) || !(seconds > 0) || seconds > kMaxSeconds) {
    *error = absl::StrCat(flag, " must be a number of seconds greater than 0 and at most ",
                          static_cast<long long>(kMaxSeconds), " (a year), got '", text, "'");
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

CLI::Option* AddSecondsOption(CLI::App& cmd, const std::string& name, std::chrono::milliseconds* out,
                              const std::string& help) {
  // The callback runs during the parse; CLI11 reports the ValidationError
  // as a usage error (RunCommandLine).
  return cmd
      .add_option_function<std::string>(
          name,
          [name, out](const std::string& text) {
            std::string error;
            std::optional<std::chrono::milliseconds> parsed = ParseSeconds(name, text, &error);
            if (!parsed) throw CLI::ValidationError(error);
            *out = *parsed;
          },
          help)
      ->option_text("SECONDS");
}

CLI::Validator WholeNumber(long long min, long long max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        long long value = 0;
        if (absl::SimpleAtoi(text, &value) && value >= min && value <= max) return "";
        return max == std::numeric_limits<long long>::max()
                   ? absl::StrCat("must be a whole number of at least ", min, ", got '", text, "'")
                   : absl::StrCat("must be a whole number from ", min, " to ", max, ", got '", text, "'");
      },
      "");
}

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "snakepit %s: %s\n(see 'snakepit %s --help')\n", command.c_str(), message.c_str(),
               command.c_str());
  return kUsage;
}

}  // namespace snakepit::cli
