// snakepit run: one call on a pool, printing its result or its error.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/pools.h"

namespace snakepit::cli {
namespace {

constexpr const char* kHelp =
    "usage: snakepit run --config FILE [--timeout SECONDS] [--verbose] POOL COMMAND [ARGS_JSON]\n"
    "\n"
    "Starts the pools of FILE, runs COMMAND on POOL with ARGS_JSON (default {}), prints the\n"
    "JSON result on stdout and exits 0; on failure prints the error (with the Python\n"
    "traceback, if the command raised) on stderr and exits 1.\n"
    "\n"
    "  --config FILE       pools configuration (docs/configuration.md)\n"
    "  --timeout SECONDS   deadline of the call (default: the pool's call_timeout)\n"
    "  --verbose           show the library's info log lines\n";

}  // namespace

int Run(const std::vector<std::string>& argv) {
  const Args args = Parse(argv, {"--help", "--verbose"}, {"--config", "--timeout"});
  if (!args.error.empty()) return UsageError("run", args.error);
  if (args.has("--help")) {
    std::fputs(kHelp, stdout);
    return kOk;
  }
  if (!args.has("--config")) return UsageError("run", "--config FILE is required");
  if (args.positional.size() < 2 || args.positional.size() > 3) {
    return UsageError("run", "expected POOL COMMAND [ARGS_JSON]");
  }
  nlohmann::json call_args = nlohmann::json::object();
  if (args.positional.size() == 3) {
    call_args = nlohmann::json::parse(args.positional[2], nullptr, /*allow_exceptions=*/false);
    if (call_args.is_discarded()) return UsageError("run", "ARGS_JSON is not valid JSON: " + args.positional[2]);
  }
  CallOptions options;
  if (auto v = args.value("--timeout")) {
    std::string error;
    std::optional<std::chrono::milliseconds> timeout = ParseSeconds("--timeout", *v, &error);
    if (!timeout) return UsageError("run", error);
    options.timeout = *timeout;
  }
  QuietLogs(args.has("--verbose"));
  std::unique_ptr<PoolManager> pools =
      StartPools("run", *args.value("--config"), {.only_pool = args.positional[0], .abandon_at_exit = true});
  if (pools == nullptr) return kFailed;
  absl::StatusOr<nlohmann::json> result = pools->execute(args.positional[0], args.positional[1], call_args, options);
  // Answer first: stopping the workers may take up to kill_grace.
  if (!result.ok()) {
    std::fprintf(stderr, "snakepit run: %s: %s\n", absl::StatusCodeToString(result.status().code()).c_str(),
                 std::string(result.status().message()).c_str());
  } else {
    std::cout << result->dump(2) << "\n";
  }
  std::fflush(stderr);
  std::cout.flush();
  pools->shutdown();
  return result.ok() ? kOk : kFailed;
}

}  // namespace snakepit::cli
