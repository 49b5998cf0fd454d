#include "profile/worker_site.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace snakepit::internal {
namespace {

// Passed through from the host: what a Python process needs to find
// programs, locale and temp space. Everything else starts clean, so a
// variable of the host cannot silently change a worker's behaviour.
constexpr const char* kInherited[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"};

}  // namespace

std::vector<std::string> WorkerEnvironment(const PoolConfig& config, const WorkerSite& site,
                                           const std::map<std::string, std::string>& profile_env) {
  std::map<std::string, std::string> env;
  for (const char* name : kInherited) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  env["PYTHONUNBUFFERED"] = "1";  // worker output reaches the log as it happens
  for (const auto& [k, v] : profile_env) env[k] = v;
  for (const auto& [k, v] : config.env) env[k] = v;

  // PYTHONPATH: the pool's python_path, then the user's PYTHONPATH, then
  // the worker package, which must always be importable.
  std::vector<std::string> path = config.python_path;
  if (auto it = env.find("PYTHONPATH"); it != env.end() && !it->second.empty()) path.push_back(it->second);
  path.push_back(site.worker_package);
  env["PYTHONPATH"] = absl::StrJoin(path, ":");

  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(absl::StrCat(k, "=", v));
  return out;
}

WorkerSpec MakeWorkerSpec(const PoolConfig& config, const WorkerSite& site, int id, Profile profile, int capacity,
                          const std::map<std::string, std::string>& profile_env) {
  WorkerSpec spec;
  spec.pool = config.name;
  spec.id = id;
  spec.profile = profile;
  spec.capacity = capacity;
  spec.python = config.python.empty() ? site.default_python : config.python;
  spec.adapter = config.adapter;
  spec.transport = config.worker_transport;
  spec.extra_args = config.extra_args;
  spec.thread_safety_checks = config.thread_safety_checks;
  spec.rlimit_as_mb = config.rlimit_as_mb;
  spec.rlimit_nofile = config.rlimit_nofile;
  spec.env = WorkerEnvironment(config, site, profile_env);
  if (config.tcp) {
    spec.tcp = config.tcp;
  } else {
    spec.socket_path = absl::StrCat(site.socket_dir, "/", config.name, "-", id, ".sock");
  }
  spec.new_token = site.new_token;
  spec.preload = config.preload;
  spec.max_message_bytes = config.max_message_bytes;
  spec.reply_poll = absl::Microseconds(config.reply_poll_us);
  spec.python_grace = absl::FromChrono(config.kill_grace);
  return spec;
}

}  // namespace snakepit::internal
