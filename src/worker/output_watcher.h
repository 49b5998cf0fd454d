// OutputWatcher: the thread that watches one worker process.
//
// It forwards the worker's stdout/stderr, line by line, to the snakepit
// logger, tagged "[<label> pid <pid>]" (the label is "<pool>-<worker id>"):
// the worker's Python log records, "[<label>] <LEVEL> <logger>: <text>"
// (python/snakepit_worker/log_format.py), at their own level; any other
// line (print(), a C library's output) at info. It keeps the last
// lines for error reports, and notices the process's exit the moment it
// happens (pidfd), reaps it, and reports it once through `on_exit`.
//
// Ownership: owns the read end of the output pipe. The ChildProcess must
// outlive the watcher. The destructor joins the thread, so it blocks until
// the process has exited: stop the process first.
#ifndef SNAKEPIT_SRC_WORKER_OUTPUT_WATCHER_H_
#define SNAKEPIT_SRC_WORKER_OUTPUT_WATCHER_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/notification.h"
#include "common/unique_fd.h"
#include "process/child_process.h"

namespace snakepit::internal {

class OutputWatcher {
 public:
  using ExitCallback = std::function<void(const ExitInfo&)>;

  OutputWatcher(ChildProcess* child, UniqueFd output, std::string label, ExitCallback on_exit);
  ~OutputWatcher();
  OutputWatcher(const OutputWatcher&) = delete;
  OutputWatcher& operator=(const OutputWatcher&) = delete;

  // Blocks until the process has exited and on_exit has returned, or until
  // `deadline`. Returns the exit info, or nullopt on timeout.
  std::optional<ExitInfo> WaitForExit(absl::Time deadline);
  bool exited() const { return exited_.HasBeenNotified(); }

  // The last lines the worker printed, oldest first, joined with '\n'.
  std::string Tail() const;

 private:
  void Run();
  void ConsumeOutput(bool until_eof);
  void AddLine(std::string line);

  ChildProcess* const child_;
  UniqueFd output_;
  const std::string label_;
  ExitCallback on_exit_;
  std::string partial_;  // watcher thread only

  mutable Mutex mu_;
  std::deque<std::string> tail_ ABSL_GUARDED_BY(mu_);
  std::optional<ExitInfo> exit_info_ ABSL_GUARDED_BY(mu_);
  Notification exited_;
  std::thread thread_;  // last: starts after every member is ready
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_OUTPUT_WATCHER_H_
