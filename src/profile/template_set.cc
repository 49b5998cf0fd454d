#include "profile/template_set.h"

namespace snakepit::internal {

void TemplateSet::Assign(WorkerSpec& spec) {
  spec.start_method = config_.start_method;
  if (config_.start_method == StartMethod::kSpawn) return;
  MutexLock lock(&mu_);
  std::shared_ptr<WorkerTemplate>& t = templates_[spec.profile];
  if (t == nullptr) t = std::make_shared<WorkerTemplate>(spec, absl::FromChrono(config_.startup_timeout));
  spec.fork_from = t;
}

void TemplateSet::Shutdown() {
  std::map<Profile, std::shared_ptr<WorkerTemplate>> templates;
  {
    MutexLock lock(&mu_);
    templates = templates_;  // workers may still hold them; Stop() is what ends them
  }
  for (auto& [profile, t] : templates) t->Stop();
}

}  // namespace snakepit::internal
