#include "support/cpu_clock.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace snakepit::bench {
namespace {

absl::Duration FromTimeval(const timeval& tv) { return absl::Seconds(tv.tv_sec) + absl::Microseconds(tv.tv_usec); }

// Fields 14 and 15 of /proc/<pid>/stat (utime, stime), in clock ticks. The
// command name (field 2) may hold spaces, so fields are counted after ')'.
absl::Duration ProcStatCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return absl::ZeroDuration();
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) {
      stime = std::stoll(field);
      break;
    }
  }
  return absl::Seconds(static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK)));
}

}  // namespace

absl::Duration SelfCpu() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return FromTimeval(usage.ru_utime) + FromTimeval(usage.ru_stime);
}

absl::Duration ProcessCpu(pid_t pid) {
  clockid_t clock;
  timespec ts{};
  if (::clock_getcpuclockid(pid, &clock) == 0 && ::clock_gettime(clock, &ts) == 0)
    return absl::DurationFromTimespec(ts);
  return ProcStatCpu(pid);
}

absl::Duration ProcessesCpu(const std::vector<pid_t>& pids) {
  absl::Duration total;
  for (pid_t pid : pids) total += ProcessCpu(pid);
  return total;
}

CpuWindow::CpuWindow(std::vector<pid_t> others) : others_(std::move(others)) { Restart(); }

void CpuWindow::Restart() {
  self_start_ = SelfCpu();
  others_start_ = ProcessesCpu(others_);
}

}  // namespace snakepit::bench
