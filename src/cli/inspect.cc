// snakepit inspect: starts the pools of a config and shows what they do.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <thread>

#include "CLI/CLI.hpp"
#include "cli/cli.h"
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
        "each pool's figures, its workers and the inspector's recommendations.");
    // The options, one line each.
    cmd.add_option("--config", config_, "pools configuration (docs/configuration.md); required")
        ->option_text("FILE")
        ->required();
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
  std::string config_;
  bool watch_ = false;
  std::chrono::milliseconds interval_{2000};
  long long count_ = 0;  // 0: not given
  bool json_ = false;
  bool prometheus_ = false;
};

int InspectCommand::Execute() {
  if (json_ && prometheus_) return UsageError("inspect", "--json and --prometheus exclude each other");
  const long long count = count_ > 0 ? count_ : (watch_ ? -1 : 1);
  std::unique_ptr<PoolManager> pools = StartPools("inspect", config_, {.progress = true});
  if (pools == nullptr) return kFailed;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const bool redraw = watch_ && ::isatty(STDOUT_FILENO) == 1 && !json_;
  Inspector inspector(*pools);
  for (long long n = 0; (count < 0 || n < count) && !g_stop.load(); ++n) {
    if (n > 0) {
      // Sleep in small steps so Ctrl-C is prompt.
      const auto until = std::chrono::steady_clock::now() + interval_;
      while (std::chrono::steady_clock::now() < until && !g_stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (g_stop.load()) break;
    }
    const InspectionReport report = inspector.Inspect();
    if (json_) {
      std::cout << report.ToJson().dump() << "\n";
    } else if (prometheus_) {
      std::cout << report.ToPrometheus() << (count != 1 ? "\n" : "");
    } else {
      if (redraw) std::cout << "\033[H\033[2J";  // home, clear screen
      std::cout << report.ToText() << (count != 1 && !redraw ? "\n" : "");
    }
    std::cout.flush();
  }
  pools->shutdown();
  return kOk;
}

}  // namespace

std::unique_ptr<Command> MakeInspect() { return std::make_unique<InspectCommand>(); }

}  // namespace snakepit::cli
