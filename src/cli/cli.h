// The `snakepit` command-line tool: what its commands share.
//
// Each command is a Command: Define() adds its options to its CLI11
// subcommand, one line per option bound to a member, and Execute() runs it
// once the command line parsed. command_line.cc builds the application
// from the list in main.cc and turns every parse problem into a usage error
// (with "did you mean" for unknown commands and flags).
//
// Exit codes: 0 success, 1 the operation failed (bad config, a failed call,
// a probe error, a file that cannot be read or written), 2 bad usage.
#ifndef SNAKEPIT_SRC_CLI_CLI_H_
#define SNAKEPIT_SRC_CLI_CLI_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
class Validator;
}  // namespace CLI

namespace snakepit::cli {

inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;

// Options every command takes, before or after the command's name.
struct GlobalOptions {
  std::string log_level;  // --log-level: trace, debug, info, warn, error or off; "" when not given
  bool verbose = false;   // --verbose: the same as --log-level info
};

// One command. Define() is called once, before parsing; Execute() at most
// once, after a successful parse, with the library's log level already set
// from the global options: --log-level when given, else info with
// --verbose, else warn (info lines are noise in a CLI).
class Command {
 public:
  virtual ~Command() = default;
  // Sets `cmd`'s long description (its footer: see help_format.h) and adds
  // its options and arguments, each bound to a member of the command.
  virtual void Define(CLI::App& cmd) = 0;
  // Runs the command; returns the exit code.
  virtual int Execute() = 0;
};

std::unique_ptr<Command> MakeDoctor();
std::unique_ptr<Command> MakeInspect();
std::unique_ptr<Command> MakeRun();

// A command as the top-level help lists it.
struct CommandEntry {
  const char* name;
  const char* summary;  // one line for `snakepit --help`
  std::unique_ptr<Command> (*make)();
};

// Parses `argv` (argv[0] the program) against `commands` and runs the one
// named. --help and --version print on stdout and return kOk; any parse
// problem prints "snakepit [<command>]: <problem>" and a pointer to --help
// on stderr and returns kUsage.
int RunCommandLine(int argc, const char* const* argv, const std::vector<CommandEntry>& commands);

// Parses a number of seconds for `flag`: a finite number in (0, kMaxSeconds],
// given in any form absl::SimpleAtod reads. Returns the duration, rounded
// up to whole milliseconds, or an error message naming the flag and the
// text ("nan", "inf", "1e30" and negative values are refused).
inline constexpr double kMaxSeconds = 365.0 * 24 * 3600;  // a year
std::optional<std::chrono::milliseconds> ParseSeconds(const std::string& flag, const std::string& text,
                                                      std::string* error);

// Adds `name SECONDS` to `cmd`, parsed with ParseSeconds into `*out`: a
// bad value is a usage error naming the flag and the text.
CLI::Option* AddSecondsOption(CLI::App& cmd, const std::string& name, std::chrono::milliseconds* out,
                              const std::string& help);

// Checks that a value is a whole number in [min, max]: "must be a whole
// number from 1 to 1024, got 'abc'".
CLI::Validator WholeNumber(long long min, long long max);

// Prints "snakepit <cmd>: <message>" and a pointer to --help on stderr;
// returns kUsage.
int UsageError(const std::string& command, const std::string& message);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_CLI_H_
