// snakepit: diagnostics and one-off calls from the shell. See
// docs/diagnostics.md.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "snakepit/version.h"

namespace {

constexpr const char* kHelp =
    "usage: snakepit <command> [options]\n"
    "\n"
    "Commands:\n"
    "  doctor   report on a Python interpreter: version, free-threading, GIL, grpc,\n"
    "           installed libraries, their thread-safety, and the profile that fits\n"
    "  inspect  start the pools of a config and show what they are doing\n"
    "  run      start the pools of a config, make one call and print its result\n"
    "\n"
    "'snakepit <command> --help' describes a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? snakepit::cli::kUsage : snakepit::cli::kOk;
  }
  if (args[0] == "--version") {
    std::printf("snakepit %s\n", SNAKEPIT_VERSION_STRING);
    return snakepit::cli::kOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "doctor") return snakepit::cli::Doctor(args);
  if (command == "inspect") return snakepit::cli::Inspect(args);
  if (command == "run") return snakepit::cli::Run(args);
  std::fprintf(stderr, "snakepit: unknown command '%s'\n\n%s", command.c_str(), kHelp);
  return snakepit::cli::kUsage;
}

// An installed `snakepit` finds the worker package next to itself,
// <prefix>/bin/../share/snakepit/python, wherever the prefix was moved
// (see src/manager/worker_package.h); in a build tree there is none and
// the library's own lookup applies.
extern "C" const char* snakepit_installed_pythonpath(void) {
  static const std::string path = [] {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return std::string();
    const std::filesystem::path package = exe.parent_path().parent_path() / "share" / "snakepit" / "python";
    return std::filesystem::is_directory(package / "snakepit_worker", ec) ? package.string() : std::string();
  }();
  return path.empty() ? nullptr : path.c_str();
}
