// The `snakepit` command-line tool: shared pieces of its subcommands.
//
// Exit codes: 0 success, 1 the operation failed (bad config, a failed call,
// a probe error), 2 bad usage.
#ifndef SNAKEPIT_SRC_CLI_CLI_H_
#define SNAKEPIT_SRC_CLI_CLI_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace snakepit::cli {

inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;

// Parsed arguments: flags ("--json", "--python PATH") and positionals.
// `with_value` names the flags that take a value ("--python").
struct Args {
  std::map<std::string, std::string> flags;  // "--json" -> "" for switches
  std::vector<std::string> positional;
  std::string error;  // set when the arguments cannot be parsed

  bool has(const std::string& flag) const { return flags.contains(flag); }
  std::optional<std::string> value(const std::string& flag) const;
};

// Every flag must be in `switches` or `with_value`; anything else is an
// error naming it. "--flag=value" works too.
Args Parse(const std::vector<std::string>& argv, const std::vector<std::string>& switches,
           const std::vector<std::string>& with_value);

// Parses a number of seconds for `flag`: a finite number in (0, kMaxSeconds],
// given in any form absl::SimpleAtod reads. Returns the duration, rounded
// up to whole milliseconds, or an error message naming the flag and the
// text ("nan", "inf", "1e30" and negative values are refused).
inline constexpr double kMaxSeconds = 365.0 * 24 * 3600;  // a year
std::optional<std::chrono::milliseconds> ParseSeconds(const std::string& flag, const std::string& text,
                                                      std::string* error);

int Doctor(const std::vector<std::string>& argv);
int Inspect(const std::vector<std::string>& argv);
int Run(const std::vector<std::string>& argv);

// Prints "snakepit <cmd>: <message>" and a pointer to --help on stderr;
// returns kUsage.
int UsageError(const std::string& command, const std::string& message);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_CLI_H_
