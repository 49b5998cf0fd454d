// TemplateProcess: one running template (python -m snakepit_worker.template)
// and the host's end of its control socket. WorkerTemplate (worker_template.h)
// owns the current one and replaces it when it dies.
//
// Lifetime: Start() spawns it and reads its readiness record; the
// destructor closes the control socket (the template's lifeline), kills
// it and reaps it. Never destroy one on its own watcher thread (the
// exit callback's).
// Threading: Fork() calls are serialised on the control socket; the other
// methods are thread-safe.
#ifndef SNAKEPIT_SRC_WORKER_TEMPLATE_PROCESS_H_
#define SNAKEPIT_SRC_WORKER_TEMPLATE_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "common/unique_fd.h"
#include "process/child_process.h"
#include "worker/output_watcher.h"
#include "worker/worker_spec.h"

namespace snakepit::internal {

class TemplateProcess {
 public:
  // Spawns the template for the workers `spec` describes and waits (until
  // `deadline`) for its readiness record. `on_exit` runs once on the
  // watcher thread when it exits. Errors: the template's own failure
  // (its Python error, or its output when it died), DEADLINE_EXCEEDED.
  static absl::StatusOr<std::unique_ptr<TemplateProcess>> Start(const WorkerSpec& spec, absl::Time deadline,
                                                                std::function<void(const ExitInfo&)> on_exit);
  ~TemplateProcess();
  TemplateProcess(const TemplateProcess&) = delete;
  TemplateProcess& operator=(const TemplateProcess&) = delete;

  pid_t pid() const { return child_->pid(); }
  const std::string& label() const { return label_; }
  // Empty when forking is safe; otherwise why not, as the template found.
  const std::string& hazards() const { return hazards_; }
  bool exited() const { return watcher_->exited(); }

  // See WorkerTemplate::Fork. UNAVAILABLE when the template is gone or
  // refused; the control socket is closed after a transport error.
  absl::StatusOr<std::unique_ptr<ChildProcess>> Fork(const std::vector<std::string>& argv, const std::string& token,
                                                     const std::vector<int>& fds, absl::Time deadline);

 private:
  TemplateProcess(std::string label, std::unique_ptr<ChildProcess> child, UniqueFd control)
      : label_(std::move(label)), child_(std::move(child)), control_(std::move(control)) {}

  const std::string label_;
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<OutputWatcher> watcher_;  // set by Start
  std::string hazards_;                     // set by Start
  Mutex mu_;
  UniqueFd control_ ABSL_GUARDED_BY(mu_);
};

// The template's command line: <python> -m snakepit_worker.template ...
std::vector<std::string> TemplateArgv(const WorkerSpec& spec, const std::string& label, int control_fd, int ready_fd);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_TEMPLATE_PROCESS_H_
