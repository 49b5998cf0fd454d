// WorkerTemplate: a warm Python process that workers are forked from.
//
// The template (python -m snakepit_worker.template) imports the worker
// package, the adapter's module and the transport module, with the
// profile's environment already set (BLAS threads pinned before numpy can
// load), and starts no thread and no server. Each Fork() hands it a
// worker's command line, token and pipes over a Unix socket; it forks with
// clone(CLONE_PARENT), so the worker is this process's child, owned,
// reaped and killed exactly like a spawned one (ChildProcess::Adopt), and
// outlives the template. The worker then starts its server as a spawned
// one does. See docs/lifecycle.md, "Warm start from a template".
//
// Lifetime: the first Fork() starts the template. If it dies, a thread of
// this object starts a new one at once (and Fork() would too), so a
// recycled or restarted worker still forks. The template's lifeline is its
// control socket: when this process dies, even by SIGKILL, the socket
// closes and the template exits; the destructor kills it.
// Forkable: the template reports whether forking it is safe (no thread
// running, no known fork-unsafe module, the adapter did not declare
// fork_safe = False: python/snakepit_worker/fork_safety.py). If not, every
// Fork() fails with FAILED_PRECONDITION naming the reasons, and the reasons
// are logged once.
// Threading: all methods are thread-safe; forks are serialised.
#ifndef SNAKEPIT_SRC_WORKER_WORKER_TEMPLATE_H_
#define SNAKEPIT_SRC_WORKER_WORKER_TEMPLATE_H_

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "process/child_process.h"
#include "worker/worker_spec.h"

namespace snakepit::internal {

class TemplateProcess;

class WorkerTemplate {
 public:
  // `spec`: any worker of the pool under one profile; the template runs
  // its interpreter, adapter, mode, transport and environment (without a
  // token). `startup_timeout` bounds each template start.
  WorkerTemplate(const WorkerSpec& spec, absl::Duration startup_timeout);
  ~WorkerTemplate();
  WorkerTemplate(const WorkerTemplate&) = delete;
  WorkerTemplate& operator=(const WorkerTemplate&) = delete;

  // Forks a worker running `argv` (WorkerArgv(); its interpreter and "-m
  // snakepit_worker" are dropped) with `token` in its environment and
  // `fds` = {output, lifeline, ready, stacks} and, if the worker takes the
  // shared-memory data plane, its memfd: placed where a spawned worker has
  // them. Starts a template first if none runs.
  // Errors: FAILED_PRECONDITION when the template is not forkable (lasting:
  // spawn instead); UNAVAILABLE when the template failed to start or died
  // (a later call may succeed); DEADLINE_EXCEEDED.
  absl::StatusOr<std::unique_ptr<ChildProcess>> Fork(const std::vector<std::string>& argv, const std::string& token,
                                                     const std::vector<int>& fds, absl::Time deadline);

  // Kills the template and stops replacing it; every later Fork() fails
  // with FAILED_PRECONDITION. Called when the pool shuts down (its workers
  // are gone) and by the destructor; idempotent.
  void Stop();

  // The running template's pid; 0 when none runs.
  pid_t pid() const;
  // Templates started so far (the first, and each replacement).
  int starts() const;

 private:
  // Returns the running template, starting one if there is none. Only one
  // start runs at a time.
  absl::StatusOr<std::shared_ptr<TemplateProcess>> Running(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs on the watcher thread of template number `generation` (starts_
  // when it was started) when it exits.
  void OnTemplateExit(int generation, const ExitInfo& info);
  void Restarter();

  const WorkerSpec spec_;
  const absl::Duration startup_timeout_;

  Mutex start_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // held for a whole start
  mutable Mutex mu_;
  std::shared_ptr<TemplateProcess> current_ ABSL_GUARDED_BY(mu_);
  bool current_died_ ABSL_GUARDED_BY(mu_) = false;
  std::string unforkable_ ABSL_GUARDED_BY(mu_);  // set once: why forking is off
  absl::Status last_failure_ ABSL_GUARDED_BY(mu_);
  absl::Time retry_after_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int starts_ ABSL_GUARDED_BY(mu_) = 0;
  int current_generation_ ABSL_GUARDED_BY(mu_) = 0;  // of current_
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::once_flag stopped_;
  std::thread restarter_;  // last: starts once the members above are ready
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_WORKER_TEMPLATE_H_
