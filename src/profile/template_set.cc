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

}  // namespace snakepit::internal
