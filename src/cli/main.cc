// snakepit: diagnostics and one-off calls from the shell. See
// docs/diagnostics.md.
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  using snakepit::cli::CommandEntry;
  // The commands, in the order `snakepit --help` lists them.
  const std::vector<CommandEntry> commands = {
      {"doctor", "report on a Python interpreter: GIL, grpc, the worker transport, libraries, the profile",
       &snakepit::cli::MakeDoctor},
      {"inspect", "start the pools of a config and show what they are doing", &snakepit::cli::MakeInspect},
      {"run", "start a pool of a config, make one call and print its result", &snakepit::cli::MakeRun},
  };
  return snakepit::cli::RunCommandLine(argc, argv, commands);
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
