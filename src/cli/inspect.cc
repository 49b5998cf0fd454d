// snakepit inspect: shows what pools do: pools it starts from a config, or
// a running application's pools read from its metrics endpoint (--url).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "cli/cli.h"
#include "cli/endpoint_page.h"
#include "cli/pools.h"
#include "snakepit/inspector.h"

namespace snakepit::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

class InspectCommand final : public Command {
 public:
  void Define(CLI::App& cmd) override {
    cmd.footer(
        "Starts the pools of FILE (a progress line shows while workers start), then prints\n"
        "each pool's figures, its workers and the inspector's recommendations. With --url,\n"
        "reads those of a running application from its metrics endpoint instead.");
    // The options, one line each.
    cmd.add_option("--config", config_, "pools configuration (docs/configuration.md)")->option_text("FILE");
    cmd.add_option("--url", url_,
                   "a running application's metrics endpoint, http://HOST:PORT\n(its config's \"metrics\": "
                   "{\"listen\": ...}; docs/diagnostics.md)")
        ->option_text("URL");
    cmd.add_flag("--watch", watch_,
                 "keep refreshing until Ctrl-C: redrawn in place on a terminal,\none report after another when piped");
    AddSecondsOption(cmd, "--interval", &interval_, "time between refreshes (default 2)");
    cmd.add_option("--count", count_, "stop after N reports (default: 1, or unlimited with --watch)")
        ->option_text("N")
        ->check(WholeNumber(1, std::numeric_limits<long long>::max()));
    cmd.add_flag("--json", json_, "print each report as one JSON object per line");
    cmd.add_flag("--prometheus", prometheus_, "print each report in Prometheus text format");
  }

  int Execute() override;

 private:
  // The next report, read from the endpoint or measured on `pools`.
  std::function<absl::StatusOr<std::string>()> Reports(std::unique_ptr<PoolManager>& pools,
                                                       std::unique_ptr<Inspector>& inspector) const;

  std::string config_;
  std::string url_;
  bool watch_ = false;
  std::chrono::milliseconds interval_{2000};
  long long count_ = 0;  // 0: not given
  bool json_ = false;
  bool prometheus_ = false;
};

std::function<absl::StatusOr<std::string>()> InspectCommand::Reports(std::unique_ptr<PoolManager>& pools,
                                                                     std::unique_ptr<Inspector>& inspector) const {
  if (!url_.empty()) {
    const std::string page = json_ ? "/inspect.json" : prometheus_ ? "/metrics" : "/inspect";
    return [url = url_, page] { return FetchEndpointPage(url, page, std::chrono::seconds(10)); };
  }
  pools = StartPools("inspect", config_, {.progress = true});
  if (pools == nullptr) return nullptr;
  if (watch_) {
    std::fputs(
        "snakepit inspect: watching the pools this command started, which take no calls but its own (idle); "
        "--url http://HOST:PORT reads a running application's pools from its metrics endpoint\n",
        stderr);
  }
  inspector = std::make_unique<Inspector>(*pools);
  return [inspector = inspector.get(), json = json_, prometheus = prometheus_]() -> absl::StatusOr<std::string> {
    const InspectionReport report = inspector->Inspect();
    if (json) return report.ToJson().dump() + "\n";
    return prometheus ? report.ToPrometheus() : report.ToText();
  };
}

int InspectCommand::Execute() {
  if (json_ && prometheus_) return UsageError("inspect", "--json and --prometheus exclude each other");
  if (config_.empty() == url_.empty()) return UsageError("inspect", "give one of --config FILE or --url URL");
  if (!url_.empty() && url_.rfind("http://", 0) != 0) {
    return UsageError("inspect", "--url: expected http://HOST:PORT (the endpoint is plain HTTP), got \"" + url_ + "\"");
  }
  const long long count = count_ > 0 ? count_ : (watch_ ? -1 : 1);
  std::unique_ptr<PoolManager> pools;
  std::unique_ptr<Inspector> inspector;
  const std::function<absl::StatusOr<std::string>()> next_report = Reports(pools, inspector);
  if (!next_report) return kFailed;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool redraw = watch_ && ::isatty(STDOUT_FILENO) == 1 && !json_;
  int status = kOk;
  for (long long n = 0; (count < 0 || n < count) && !g_stop.load(); ++n) {
    if (n > 0) {
      // Sleep in small steps so Ctrl-C is prompt.
      const auto until = std::chrono::steady_clock::now() + interval_;
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
    if (json_) {
      std::cout << *report;
    } else if (prometheus_) {
      std::cout << *report << (count != 1 ? "\n" : "");
    } else {
      if (redraw) std::cout << "\033[H\033[2J";  // home, clear screen
      std::cout << *report << (count != 1 && !redraw ? "\n" : "");
    }
    std::cout.flush();
  }
  inspector.reset();
  if (pools != nullptr) pools->shutdown();
  return status;
}

}  // namespace

std::unique_ptr<Command> MakeInspect() { return std::make_unique<InspectCommand>(); }

}  // namespace snakepit::cli
