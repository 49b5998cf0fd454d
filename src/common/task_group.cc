#include "common/task_group.h"

#include <utility>

namespace snakepit::internal {

void TaskGroup::Spawn(std::function<void()> task) {
  Reap();
  MutexLock lock(&mu_);
  const std::uint64_t id = next_id_++;
  // The thread cannot report itself finished before it is in running_: it
  // needs mu_, which is held until the emplace below is done.
  running_.emplace(id, std::thread([this, id, task = std::move(task)] {
                     task();
                     MutexLock done(&mu_);
                     finished_.push_back(id);
                   }));
}

void TaskGroup::Reap() {
  std::vector<std::thread> done;
  {
    MutexLock lock(&mu_);
    for (std::uint64_t id : finished_) {
      auto it = running_.find(id);
      if (it == running_.end()) continue;  // JoinAll() took it already
      done.push_back(std::move(it->second));
      running_.erase(it);
    }
    finished_.clear();
  }
  for (std::thread& t : done) t.join();  // returns at once: the task is over
}

void TaskGroup::JoinAll() {
  while (true) {
    std::thread next;
    {
      MutexLock lock(&mu_);
      if (running_.empty()) return;
      auto it = running_.begin();
      next = std::move(it->second);
      running_.erase(it);
    }
    next.join();
    Reap();
  }
}

}  // namespace snakepit::internal
