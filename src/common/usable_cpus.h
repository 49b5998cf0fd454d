// How many CPUs this process may keep busy at once: the CPUs of its
// affinity mask (sched_getaffinity), bounded by the CPU quota of its
// cgroup (v2 `cpu.max` of its cgroup and every ancestor), rounded up. A
// container given 2 CPUs of quota on a 64-CPU host gets 2, not 64.
//
// Errors: none reach the caller. What cannot be read (no cgroup v2, no
// cpu.max, an unparsable line) imposes no bound; the answer is at least 1.
// Threading: the functions are pure or read the files each call; callers
// that need it often cache it.
#ifndef SNAKEPIT_SRC_COMMON_USABLE_CPUS_H_
#define SNAKEPIT_SRC_COMMON_USABLE_CPUS_H_

#include <optional>
#include <string>
#include <string_view>

namespace snakepit::internal {

// The CPUs allowed by one `cpu.max` line ("max 100000", "150000 100000"):
// the quota over the period, rounded up, at least 1; nullopt for "max" or
// anything unparsable.
std::optional<int> CpusOfQuota(std::string_view cpu_max);

// The cgroup v2 path of this process from the text of /proc/self/cgroup
// (its "0::<path>" line); nullopt when it has none.
std::optional<std::string> CgroupV2Path(std::string_view proc_self_cgroup);

// The usable CPUs, reading /proc/self/cgroup and cpu.max files below
// `cgroup_root` (normally /sys/fs/cgroup; tests pass a folder of their
// own).
int UsableCpus(const std::string& cgroup_root = "/sys/fs/cgroup",
               const std::string& proc_self_cgroup = "/proc/self/cgroup");

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_USABLE_CPUS_H_
