#include "common/usable_cpus.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <vector>

namespace snakepit::internal {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::int64_t> ParsePositive(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace

std::optional<int> CpusOfQuota(std::string_view cpu_max) {
  // Two fields separated by spaces, then at most a newline.
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < cpu_max.size()) {
    if (cpu_max[at] == ' ' || cpu_max[at] == '\n') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(cpu_max.find_first_of(" \n", at), cpu_max.size());
    fields.push_back(cpu_max.substr(at, end - at));
    at = end;
  }
  if (fields.size() != 2) return std::nullopt;
  const std::optional<std::int64_t> quota = ParsePositive(fields[0]);  // "max": none
  const std::optional<std::int64_t> period = ParsePositive(fields[1]);
  if (!quota || !period) return std::nullopt;
  return static_cast<int>(std::max<std::int64_t>(1, (*quota + *period - 1) / *period));
}

std::optional<std::string> CgroupV2Path(std::string_view proc_self_cgroup) {
  std::size_t at = 0;
  while (at < proc_self_cgroup.size()) {
    const std::size_t end = std::min(proc_self_cgroup.find('\n', at), proc_self_cgroup.size());
    const std::string_view line = proc_self_cgroup.substr(at, end - at);
    if (line.starts_with("0::/")) return std::string(line.substr(3));
    at = end + 1;
  }
  return std::nullopt;
}

int UsableCpus(const std::string& cgroup_root, const std::string& proc_self_cgroup) {
  int cpus = AffinityCpus();
  const std::optional<std::string> self = ReadFile(proc_self_cgroup);
  if (!self) return cpus;
  const std::optional<std::string> own = CgroupV2Path(*self);
  if (!own) return cpus;
  // The cgroup's own limit and every ancestor's, up to the root.
  std::string path = *own;
  while (true) {
    if (const std::optional<std::string> max = ReadFile(cgroup_root + (path == "/" ? "" : path) + "/cpu.max")) {
      if (const std::optional<int> quota = CpusOfQuota(*max)) cpus = std::min(cpus, *quota);
    }
    if (path == "/") break;
    const std::size_t slash = path.rfind('/');
    path = slash == 0 ? std::string("/") : path.substr(0, slash);
  }
  return cpus;
}

}  // namespace snakepit::internal
