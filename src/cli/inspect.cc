// snakepit inspect: starts the pools of a config and shows what they do.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "cli/cli.h"
#include "cli/endpoint_page.h"
#include "cli/pools.h"
#include "snakepit/inspector.h"

namespace snakepit::cli {
namespace {

constexpr const char* kHelp =
    "usage: snakepit inspect (--config FILE | --url URL) [--watch] [--interval SECONDS] [--count N]\n"
    "                        [--json | --prometheus] [--verbose]\n"
    "\n"
    "Starts the pools of FILE (a progress line shows while workers start), then prints\n"
    "each pool's figures, its workers and the inspector's recommendations. With --url,\n"
    "reads those of a running application from its metrics endpoint instead.\n"
    "\n"
    "  --config FILE       pools configuration (docs/configuration.md)\n"
    "  --url URL           a running application's metrics endpoint, http://HOST:PORT\n"
    "                      (its config's \"metrics\": {\"listen\": ...}; docs/diagnostics.md)\n"
    "  --watch             keep refreshing until Ctrl-C: redrawn in place on a terminal,\n"
    "                      one report after another when piped\n"
    "  --interval SECONDS  time between refreshes (default 2)\n"
    "  --count N           stop after N reports (default: 1, or unlimited with --watch)\n"
    "  --json              print each report as one JSON object per line\n"
    "  --prometheus        print each report in Prometheus text format\n"
    "  --verbose           show the library's info log lines\n";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int Inspect(const std::vector<std::string>& argv) {
  const Args args = Parse(argv, {"--help", "--watch", "--json", "--prometheus", "--verbose"},
                          {"--config", "--interval", "--count", "--url"});
  if (!args.error.empty()) return UsageError("inspect", args.error);
  if (args.has("--help")) {
    std::fputs(kHelp, stdout);
    return kOk;
  }
  if (!args.positional.empty()) return UsageError("inspect", "unexpected argument '" + args.positional[0] + "'");
  if (args.has("--config") == args.has("--url")) return UsageError("inspect", "give one of --config FILE or --url URL");
  if (auto url = args.value("--url"); url && url->rfind("http://", 0) != 0) {
    return UsageError("inspect", "--url: expected http://HOST:PORT (the endpoint is plain HTTP), got \"" + *url + "\"");
  }
  if (args.has("--json") && args.has("--prometheus"))
    return UsageError("inspect", "--json and --prometheus exclude each other");
  std::chrono::milliseconds interval(2000);
  if (auto v = args.value("--interval")) {
    std::string error;
    std::optional<std::chrono::milliseconds> parsed = ParseSeconds("--interval", *v, &error);
    if (!parsed) return UsageError("inspect", error);
    interval = *parsed;
  }
  long long count = args.has("--watch") ? -1 : 1;
  if (auto v = args.value("--count"); v && (!absl::SimpleAtoi(*v, &count) || count <= 0)) {
    return UsageError("inspect", "--count must be a positive integer");
  }
  QuietLogs(args.has("--verbose"));

  // Each report: read from the application's endpoint, or measured on
  // pools started here.
  std::unique_ptr<PoolManager> pools;
  std::unique_ptr<Inspector> inspector;
  const std::string format = args.has("--json") ? "json" : args.has("--prometheus") ? "prometheus" : "text";
  std::function<absl::StatusOr<std::string>()> next_report;
  if (auto url = args.value("--url")) {
    const std::string page = format == "json" ? "/inspect.json" : format == "prometheus" ? "/metrics" : "/inspect";
    next_report = [url = *url, page] { return FetchEndpointPage(url, page, std::chrono::seconds(10)); };
  } else {
    pools = StartPools("inspect", *args.value("--config"), {.progress = true});
    if (pools == nullptr) return kFailed;
    if (args.has("--watch")) {
      std::fputs(
          "snakepit inspect: watching the pools this command started, which take no calls but its own (idle); "
          "--url http://HOST:PORT reads a running application's pools from its metrics endpoint\n",
          stderr);
    }
    inspector = std::make_unique<Inspector>(*pools);
    next_report = [&inspector, &format]() -> absl::StatusOr<std::string> {
      const InspectionReport report = inspector->Inspect();
      if (format == "json") return report.ToJson().dump() + "\n";
      return format == "prometheus" ? report.ToPrometheus() : report.ToText();
    };
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool redraw = args.has("--watch") && ::isatty(STDOUT_FILENO) == 1 && !args.has("--json");
  int status = kOk;
  for (long long n = 0; (count < 0 || n < count) && !g_stop.load(); ++n) {
    if (n > 0) {
      // Sleep in small steps so Ctrl-C is prompt.
      const auto until = std::chrono::steady_clock::now() + interval;
      while (std::chrono::steady_clock::now() < until && !g_stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (g_stop.load()) break;
    }
    const absl::StatusOr<std::string> report = next_report();
    if (!report.ok()) {
      std::fprintf(stderr, "snakepit inspect: %s\n", std::string(report.status().message()).c_str());
      status = kFailed;
      break;
    }
    if (format == "json") {
      std::cout << *report;
    } else if (format == "prometheus") {
      std::cout << *report << (count != 1 ? "\n" : "");
    } else {
      if (redraw) std::cout << "\033[H\033[2J";  // home, clear screen
      std::cout << *report << (count != 1 && !redraw ? "\n" : "");
    }
    std::cout.flush();
  }
  if (pools != nullptr) pools->shutdown();
  return status;
}

}  // namespace snakepit::cli
