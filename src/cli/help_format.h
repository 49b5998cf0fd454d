// How `snakepit ... --help` looks: CLI11's generated help, starting with a
// "usage: snakepit run [options] POOL COMMAND [ARGS_JSON]" line, then the
// description, the arguments, the option groups, the commands. A command's
// CLI11 description is its one-line summary in `snakepit --help`; its long
// description, shown by `snakepit <command> --help`, is its CLI11 footer.
#ifndef SNAKEPIT_SRC_CLI_HELP_FORMAT_H_
#define SNAKEPIT_SRC_CLI_HELP_FORMAT_H_

#include <string>

#include "CLI/CLI.hpp"

namespace snakepit::cli {

class HelpFormat : public CLI::Formatter {
 public:
  HelpFormat();
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;
};

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_HELP_FORMAT_H_
