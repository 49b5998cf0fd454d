// Verdicts: a scenario's judgement of one of the targets, printed
// as one line. A --quick run is too short to judge anything, so these
// print nothing then; QuickOutputGuard (main.cc runs every --quick run
// under it) fails the run if anything else printed a verdict-like line.
#ifndef SNAKEPIT_BENCH_SCENARIOS_VERDICT_H_
#define SNAKEPIT_BENCH_SCENARIOS_VERDICT_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "scenarios/scenarios.h"

namespace snakepit::bench {

// "  verdict: <target>: met|NOT met (<measured>)"; nothing with --quick.
void PrintVerdict(const BenchEnv& env, std::string_view target, bool met, std::string_view measured);
// "  verdict: <target>: none, <why>"; nothing with --quick.
void PrintNoVerdict(const BenchEnv& env, std::string_view target, std::string_view why);

// Whether `line` reads as a verdict: it holds the word "verdict", "met"
// or "missed" (any case), or "target:".
bool LooksLikeVerdict(std::string_view line);

// Checks that LooksLikeVerdict flags every line PrintVerdict and
// PrintNoVerdict can print (so that the guard and the printer cannot drift
// apart); an error naming the line otherwise.
absl::Status CheckVerdictDetector();

// Routes this process's stdout (fd 1, children included) through a pipe:
// a thread passes every line on to the real stdout and keeps those that
// LooksLikeVerdict flags. Not thread-safe: Start and Finish from one thread.
class QuickOutputGuard {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<QuickOutputGuard>> Start();
  ~QuickOutputGuard();
  QuickOutputGuard(const QuickOutputGuard&) = delete;
  QuickOutputGuard& operator=(const QuickOutputGuard&) = delete;

  // Restores stdout, lets the reader drain what is in the pipe (it stops
  // after 100 ms without data, so a child still holding the pipe cannot
  // block this) and returns the flagged lines. Idempotent.
  std::vector<std::string> Finish();

 private:
  QuickOutputGuard(int saved_stdout, int read_end) : saved_stdout_(saved_stdout), read_end_(read_end) {}
  void Read();

  int saved_stdout_;
  int read_end_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::vector<std::string> flagged_;  // the reader's until it is joined
  bool finished_ = false;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SCENARIOS_VERDICT_H_
