#include "worker/worker_template.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "snakepit/logging.h"
#include "worker/template_process.h"

namespace snakepit::internal {
namespace {

// After a failed template start, Fork() answers with that failure for this
// long instead of paying for another start with every worker.
constexpr absl::Duration kRetryAfterFailure = absl::Seconds(5);

}  // namespace

WorkerTemplate::WorkerTemplate(const WorkerSpec& spec, absl::Duration startup_timeout)
    : spec_(spec), startup_timeout_(startup_timeout), restarter_([this] { Restarter(); }) {}

WorkerTemplate::~WorkerTemplate() { Stop(); }

void WorkerTemplate::Stop() {
  std::call_once(stopped_, [this] {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    restarter_.join();  // it may be in a start: bounded by startup_timeout
    std::shared_ptr<TemplateProcess> last;
    {
      MutexLock lock(&mu_);
      last = std::move(current_);
    }
    last.reset();  // kills it, outside mu_ (its exit callback takes mu_)
  });
}

absl::StatusOr<std::unique_ptr<ChildProcess>> WorkerTemplate::Fork(const std::vector<std::string>& argv,
                                                                   const std::string& token,
                                                                   const std::vector<int>& fds, absl::Time deadline) {
  SNAKEPIT_ASSIGN_OR_RETURN(std::shared_ptr<TemplateProcess> running, Running(deadline));
  return running->Fork(argv, token, fds, deadline);
}

absl::StatusOr<std::shared_ptr<TemplateProcess>> WorkerTemplate::Running(absl::Time deadline) {
  MutexLock start_lock(&start_mu_);
  std::shared_ptr<TemplateProcess> old;  // destroyed outside mu_
  {
    MutexLock lock(&mu_);
    if (stopping_) return absl::FailedPreconditionError(absl::StrCat("pool '", spec_.pool, "' is shut down"));
    if (!unforkable_.empty()) return absl::FailedPreconditionError(unforkable_);
    if (current_ != nullptr && !current_died_ && !current_->exited()) return current_;
    if (absl::Now() < retry_after_) return last_failure_;
    old = std::move(current_);
    current_died_ = false;
  }
  old.reset();
  const absl::Time start_deadline = std::min(deadline, absl::Now() + startup_timeout_);
  int generation;
  {
    MutexLock lock(&mu_);
    generation = ++starts_;
  }
  absl::StatusOr<std::unique_ptr<TemplateProcess>> started = TemplateProcess::Start(
      spec_, start_deadline, [this, generation](const ExitInfo& info) { OnTemplateExit(generation, info); });
  if (!started.ok()) {
    MutexLock lock(&mu_);
    last_failure_ = absl::UnavailableError(
        absl::StrCat("pool '", spec_.pool, "': the worker template failed to start: ", started.status().message()));
    retry_after_ = absl::Now() + kRetryAfterFailure;
    logger()->warn("{}", std::string(last_failure_.message()));
    return last_failure_;
  }
  // Declared before the lock: an unforkable one is killed on return after
  // mu_ is released, since its exit callback takes mu_.
  std::shared_ptr<TemplateProcess> t = std::move(*started);
  MutexLock lock(&mu_);
  if (!t->hazards().empty()) {
    unforkable_ = absl::StrCat("pool '", spec_.pool, "': workers cannot be forked from a template: ", t->hazards());
    logger()->warn("{}", unforkable_);
    return absl::FailedPreconditionError(unforkable_);
  }
  logger()->info("{}: template pid {} ready; workers are forked from it", t->label(), t->pid());
  current_ = t;
  current_generation_ = generation;
  return t;
}

void WorkerTemplate::OnTemplateExit(int generation, const ExitInfo& info) {
  MutexLock lock(&mu_);
  if (generation != current_generation_ || stopping_) return;  // replaced or being shut down on purpose
  current_died_ = true;
  logger()->warn("{}-template (pid {}) {}; its workers live on, and a new template is started", spec_.pool,
                 current_ != nullptr ? current_->pid() : 0, info.ToString());
}

void WorkerTemplate::Restarter() {
  while (true) {
    {
      MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || current_died_; };
      mu_.Await(Condition(&wake));
      if (stopping_) return;
    }
    // Failures are logged and remembered by Running(); the next Fork()
    // tries again once kRetryAfterFailure has passed.
    (void)Running(absl::InfiniteFuture());
  }
}

pid_t WorkerTemplate::pid() const {
  MutexLock lock(&mu_);
  return current_ != nullptr && !current_died_ ? current_->pid() : 0;
}

int WorkerTemplate::starts() const {
  MutexLock lock(&mu_);
  return starts_;
}

}  // namespace snakepit::internal
