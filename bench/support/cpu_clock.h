// CPU time of this process and of other processes (the workers and the
// baseline servers), for "CPU per call" figures.
#ifndef SNAKEPIT_BENCH_SUPPORT_CPU_CLOCK_H_
#define SNAKEPIT_BENCH_SUPPORT_CPU_CLOCK_H_

#include <sys/types.h>

#include <vector>

#include "absl/time/time.h"

namespace snakepit::bench {

// User + system time of every thread of this process so far
// (getrusage(RUSAGE_SELF)): the client side, library threads included.
absl::Duration SelfCpu();

// User + system time of process `pid` so far, all its threads. Read from
// the kernel's per-process CPU clock (clock_getcpuclockid: nanoseconds);
// /proc/<pid>/stat, in clock ticks (10 ms), only if that clock is refused.
// Zero when the process is gone.
absl::Duration ProcessCpu(pid_t pid);

// The sum of ProcessCpu over `pids`.
absl::Duration ProcessesCpu(const std::vector<pid_t>& pids);

// Measures CPU over a window: this process and a set of others.
class CpuWindow {
 public:
  explicit CpuWindow(std::vector<pid_t> others = {});
  // Starts (again) from now.
  void Restart();
  absl::Duration self() const { return SelfCpu() - self_start_; }
  absl::Duration others() const { return ProcessesCpu(others_) - others_start_; }

 private:
  std::vector<pid_t> others_;
  absl::Duration self_start_;
  absl::Duration others_start_;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_CPU_CLOCK_H_
