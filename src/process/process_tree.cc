#include "process/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <memory>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "process/proc_files.h"

namespace snakepit::internal {
namespace {

// The most passes KillDescendants makes over the tree.
constexpr int kMaxPasses = 64;

class System final : public ProcessSignaller {
 public:
  absl::StatusOr<std::vector<pid_t>> Descendants(pid_t pid) override { return ListDescendants(pid); }
  void Signal(pid_t pid, int sig) override { ::kill(pid, sig); }
};

}  // namespace

absl::StatusOr<std::vector<pid_t>> ListDescendants(pid_t pid, const std::string& proc_root) {
  std::vector<pid_t> found;
  std::deque<pid_t> pending = {pid};
  std::unordered_set<pid_t> seen = {pid};
  std::vector<pid_t> children;
  while (!pending.empty() && static_cast<int>(found.size()) < kMaxDescendants) {
    const pid_t current = pending.front();
    pending.pop_front();
    children.clear();
    if (absl::Status status = AppendProcChildren(proc_root, current, children); !status.ok()) return status;
    for (pid_t child : children) {
      if (static_cast<int>(found.size()) >= kMaxDescendants) break;
      if (!seen.insert(child).second) continue;
      found.push_back(child);
      pending.push_back(child);
    }
  }
  return found;
}

ProcessSignaller& SystemSignaller() {
  static System* const system = new System();
  return *system;
}

int KillDescendants(pid_t pid, ProcessSignaller& system) {
  std::vector<pid_t> stopped;
  std::unordered_set<pid_t> known;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    absl::StatusOr<std::vector<pid_t>> descendants = system.Descendants(pid);
    if (!descendants.ok()) break;  // kill what was found so far
    bool found_new = false;
    for (pid_t p : *descendants) {
      if (!known.insert(p).second) continue;
      found_new = true;
      system.Signal(p, SIGSTOP);
      stopped.push_back(p);
    }
    if (!found_new) break;
  }
  for (pid_t p : stopped) system.Signal(p, SIGKILL);
  return static_cast<int>(stopped.size());
}

}  // namespace snakepit::internal
