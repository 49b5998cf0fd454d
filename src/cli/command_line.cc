// RunCommandLine: the CLI11 application, its parse errors, "did you mean".
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <utility>

#include "CLI/CLI.hpp"
#include "cli/cli.h"
#include "cli/help_format.h"
#include "cli/suggest.h"
#include "snakepit/logging.h"
#include "snakepit/version.h"

namespace snakepit::cli {
namespace {

constexpr const char* kDescription = "Diagnostics and one-off calls for snakepit pools (docs/diagnostics.md).";
constexpr const char* kFooter =
    "'snakepit <command> --help' describes a command's options. --log-level and --verbose may\n"
    "come before or after the command.";

// --log-level's values, in the order the help and errors list them.
const std::vector<std::pair<std::string, spdlog::level::level_enum>> kLogLevels = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};

// --log-level and --verbose: on the application and on every command, so
// that they may come before the command's name or after it.
void DefineGlobalOptions(CLI::App& app, GlobalOptions& global, const std::string& group) {
  app.add_option("--log-level", global.log_level,
                 "the library's log level: trace, debug, info, warn, error or off\n"
                 "(default: warn; worker log records show at their own level)")
      ->check(CLI::IsMember(kLogLevels))
      ->option_text("LEVEL")
      ->group(group);
  app.add_flag("--verbose", global.verbose, "show the library's info log lines (--log-level info)")->group(group);
}

// The library logger's level: --log-level when given, else info with
// --verbose, else warn (info lines are noise in a CLI).
void SetLogLevel(const GlobalOptions& global) {
  spdlog::level::level_enum level = global.verbose ? spdlog::level::info : spdlog::level::warn;
  for (const auto& [name, value] : kLogLevels) {
    if (name == global.log_level) level = value;
  }
  logger()->set_level(level);
}

// "--flag" of "--flag=value".
std::string_view FlagName(std::string_view word) { return word.substr(0, word.find('=')); }

bool IsFlag(std::string_view word) { return word.size() > 1 && word[0] == '-'; }

// Every "--name" and "-n" that `app` takes.
std::vector<std::string> FlagsOf(const CLI::App& app) {
  std::vector<std::string> flags;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) flags.push_back("--" + name);
    for (const std::string& name : opt->get_snames()) flags.push_back("-" + name);
  }
  return flags;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> near = Suggest(word, candidates);
  return near ? "; did you mean '" + *near + "'?" : "";
}

// A usage error: the command it is reported for ("" for the top level) and
// the message.
struct Problem {
  std::string command;
  std::string message;
};

// The usage error for what CLI11 left over (allow_extras), or nullopt when
// nothing was. `before`: the words before the command's name (all of them
// when no command was named); `after`: the command's own leftovers.
std::optional<Problem> Leftovers(const CLI::App& app, const CLI::App* command, const std::vector<std::string>& before,
                                 const std::vector<std::string>& after) {
  const auto positional = std::find_if(before.begin(), before.end(), [](const std::string& w) { return !IsFlag(w); });
  if (command == nullptr && positional != before.end()) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    return Problem{"", "unknown command '" + *positional + "'" + DidYouMean(*positional, names)};
  }
  for (const std::string& word : before) {
    if (!IsFlag(word)) continue;
    const std::string flag(FlagName(word));
    if (command != nullptr) {
      const std::vector<std::string> own = FlagsOf(*command);
      if (std::find(own.begin(), own.end(), flag) != own.end()) {
        return Problem{"", "'" + flag + "' is an option of 'snakepit " + command->get_name() + "': put it after '" +
                               command->get_name() + "'"};
      }
    }
    return Problem{"", "unknown option '" + flag + "'" + DidYouMean(flag, FlagsOf(app))};
  }
  if (command == nullptr) return std::nullopt;
  for (const std::string& word : after) {
    if (!IsFlag(word)) continue;
    const std::string flag(FlagName(word));
    return Problem{command->get_name(), "unknown option '" + flag + "'" + DidYouMean(flag, FlagsOf(*command))};
  }
  if (positional != before.end()) {
    return Problem{command->get_name(),
                   "unexpected argument '" + *positional + "' before '" + command->get_name() + "'"};
  }
  if (!after.empty()) return Problem{command->get_name(), "unexpected argument '" + after.front() + "'"};
  return std::nullopt;
}

// A command's CLI11 subcommand and the Command its options are bound to.
using Defined = std::pair<CLI::App*, std::unique_ptr<Command>>;

std::vector<Defined> DefineCommands(CLI::App& app, const std::vector<CommandEntry>& commands, GlobalOptions& global) {
  std::vector<Defined> defined;
  for (const CommandEntry& entry : commands) {
    CLI::App* sub = app.add_subcommand(entry.name, entry.summary);
    sub->group("Commands");
    sub->set_help_flag("-h,--help", "print this help and exit");
    sub->allow_extras();  // unknown words are reported by Leftovers()
    std::unique_ptr<Command> command = entry.make();
    command->Define(*sub);
    DefineGlobalOptions(*sub, global, "Global options");
    defined.emplace_back(sub, std::move(command));
  }
  return defined;
}

std::string CommandName(const CLI::App& app) {
  const std::vector<const CLI::App*> parsed = app.get_subcommands([](const CLI::App* sub) { return sub->parsed(); });
  return parsed.empty() ? "" : parsed.front()->get_name();
}

int PrintUsageError(const std::string& command, const std::string& message) {
  if (command.empty()) {
    std::fprintf(stderr, "snakepit: %s\n(see 'snakepit --help')\n", message.c_str());
    return kUsage;
  }
  return UsageError(command, message);
}

}  // namespace

int RunCommandLine(int argc, const char* const* argv, const std::vector<CommandEntry>& commands) {
  CLI::App app(kDescription, "snakepit");
  app.formatter(std::make_shared<HelpFormat>());
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag("--version", std::string("snakepit ") + SNAKEPIT_VERSION_STRING,
                       "print the version of snakepit (the library this tool is built with) and exit");
  app.footer(kFooter);
  app.allow_extras();
  GlobalOptions global;
  DefineGlobalOptions(app, global, "Options");

  const std::vector<Defined> defined = DefineCommands(app, commands, global);
  // `snakepit help` as `snakepit --help`.
  if (argc == 2 && std::string_view(argv[1]) == "help") {
    std::fputs(app.help().c_str(), stdout);
    return kOk;
  }
  CLI::App* chosen = nullptr;
  Command* command = nullptr;
  auto leftovers = [&] {
    for (const auto& [sub, cmd] : defined) {
      if (sub->parsed()) std::tie(chosen, command) = std::pair(sub, cmd.get());
    }
    return Leftovers(app, chosen, app.remaining(),
                     chosen != nullptr ? chosen->remaining() : std::vector<std::string>{});
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: printed on stdout
    // An unknown option explains a missing one better than the reverse
    // ("--confg x" leaves --config missing): CLI11 checks requirements first.
    if (std::optional<Problem> problem = leftovers()) return PrintUsageError(problem->command, problem->message);
    return PrintUsageError(CommandName(app), e.what());
  }
  if (std::optional<Problem> problem = leftovers()) return PrintUsageError(problem->command, problem->message);
  if (command == nullptr) {
    std::fputs(app.help().c_str(), stderr);
    return kUsage;
  }
  SetLogLevel(global);
  return command->Execute();
}

}  // namespace snakepit::cli
