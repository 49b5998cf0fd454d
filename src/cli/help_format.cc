#include "cli/help_format.h"

#include <sstream>

namespace snakepit::cli {

HelpFormat::HelpFormat() {
  column_width(26);
  label("Positionals", "Arguments");
}

std::string HelpFormat::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  // The top level: its description, then the list of commands, then its
  // footer. A command: its footer (the long description), since its
  // description is the one-line summary the command list shows.
  const bool command = app->get_parent() != nullptr;
  const std::string about = command ? app->get_footer() : app->get_description();
  std::ostringstream out;
  out << make_usage(app, name);
  if (!about.empty()) out << "\n" << about << "\n";
  out << make_positionals(app) << make_groups(app, mode) << make_subcommands(app, mode);
  if (!command && !app->get_footer().empty()) out << "\n" << make_footer(app);
  // CLI11 puts two blank lines between option groups; one is enough.
  std::string help = out.str();
  for (std::size_t at; (at = help.find("\n\n\n")) != std::string::npos;) help.erase(at, 1);
  return help;
}

std::string HelpFormat::make_option_opts(const CLI::Option* opt) const {
  // An argument's name says what it is ("POOL"); CLI11 would add "TEXT REQUIRED".
  return opt->get_positional() ? "" : CLI::Formatter::make_option_opts(opt);
}

std::string HelpFormat::make_usage(const CLI::App* app, std::string name) const {
  std::ostringstream out;
  out << "usage: " << name;
  const auto options = app->get_options([](const CLI::Option* opt) { return opt->nonpositional(); });
  if (!options.empty()) out << " [options]";
  for (const CLI::Option* positional : app->get_options([](const CLI::Option* opt) { return opt->get_positional(); })) {
    out << " " << make_option_usage(positional);
  }
  if (!app->get_subcommands({}).empty()) out << " <command> [command options]";
  out << "\n";
  return out.str();
}

}  // namespace snakepit::cli
