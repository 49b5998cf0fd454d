#include "support/foreign_cpu.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "support/cpu_clock.h"

namespace snakepit::bench {
namespace {

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

// The parent pid of `pid` (field 4 of /proc/<pid>/stat), or 0.
pid_t ParentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

// CPU seconds of this process's live children.
double LiveChildren() {
  double total = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  const pid_t self = ::getpid();
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid > 0 && ParentOf(pid) == self) total += absl::ToDoubleSeconds(ProcessCpu(pid));
  }
  ::closedir(proc);
  return total;
}

}  // namespace

ForeignCpu::ForeignCpu() : start_(Take()) {}

ForeignCpu::Sample ForeignCpu::Take() {
  Sample s;
  s.when = absl::Now();
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.busy_s = (user + nice + system + irq + softirq) / tick;
  s.steal_s = steal / tick;
  rusage children{};
  ::getrusage(RUSAGE_CHILDREN, &children);
  s.own_s = absl::ToDoubleSeconds(SelfCpu()) + Seconds(children.ru_utime) + Seconds(children.ru_stime) + LiveChildren();
  return s;
}

nlohmann::json ForeignCpu::Report() const {
  const Sample now = Take();
  const double wall = absl::ToDoubleSeconds(now.when - start_.when);
  if (wall <= 0) return {};
  const double own = (now.own_s - start_.own_s) / wall;
  const double busy = (now.busy_s - start_.busy_s) / wall;
  return {{"own_cores", own},
          {"foreign_cores", std::max(0.0, busy - own)},
          {"steal_cores", (now.steal_s - start_.steal_s) / wall}};
}

}  // namespace snakepit::bench
