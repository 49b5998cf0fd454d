// TemplateSet: a pool's worker templates, one per profile its workers run
// under (a thread pool that falls back to processes needs a process one:
// the environment differs). Decides, from the pool's start_method, whether
// a worker is forked or spawned (docs/lifecycle.md, "Warm start").
//
// Ownership: the pool's worker factory owns it; each forked worker holds
// its template too, so a template lives until its last worker is gone.
// Threading: thread-safe.
#ifndef SNAKEPIT_SRC_PROFILE_TEMPLATE_SET_H_
#define SNAKEPIT_SRC_PROFILE_TEMPLATE_SET_H_

#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "snakepit/config.h"
#include "worker/worker_spec.h"
#include "worker/worker_template.h"

namespace snakepit::internal {

class TemplateSet {
 public:
  explicit TemplateSet(const PoolConfig& config) : config_(config) {}
  TemplateSet(const TemplateSet&) = delete;
  TemplateSet& operator=(const TemplateSet&) = delete;

  // Sets spec.fork_from and spec.start_method for a worker of this pool:
  // nothing for kSpawn; otherwise the template of spec.profile, made (not
  // yet started) on first use from this spec.
  void Assign(WorkerSpec& spec);

  // Stops every template (WorkerTemplate::Stop): the pool is shut down, so
  // no template outlives PoolManager::shutdown().
  void Shutdown();

 private:
  const PoolConfig config_;
  Mutex mu_;
  std::map<Profile, std::shared_ptr<WorkerTemplate>> templates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROFILE_TEMPLATE_SET_H_
