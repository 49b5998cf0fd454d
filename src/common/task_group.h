// TaskGroup: runs background tasks on threads of their own and joins them.
//
// For the pool's maintenance work (recycling, restarting), where each task
// is a short linear script that blocks (a worker start, a drain) and tasks
// are rare: a thread per task keeps each script readable and lets one slow
// start never hold up another.
//
// Threading: Spawn() and JoinAll() are thread-safe. A task may Spawn()
// others. JoinAll() returns once every task has finished, including tasks
// spawned while it waits; the caller must make the tasks finish (they watch
// a flag of their owner). Must not be called from a task.
#ifndef SNAKEPIT_SRC_COMMON_TASK_GROUP_H_
#define SNAKEPIT_SRC_COMMON_TASK_GROUP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"

namespace snakepit::internal {

class TaskGroup {
 public:
  TaskGroup() = default;
  ~TaskGroup() { JoinAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Spawn(std::function<void()> task);
  void JoinAll();

 private:
  // Joins the threads whose task has returned. Called with mu_ not held.
  void Reap();

  Mutex mu_;
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::uint64_t, std::thread> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::uint64_t> finished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_TASK_GROUP_H_
