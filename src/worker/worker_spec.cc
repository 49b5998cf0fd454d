#include "worker/worker_spec.h"

#include "absl/strings/str_cat.h"

namespace snakepit::internal {

std::string ListenAddress(const WorkerSpec& spec) {
  if (!spec.tcp) return absl::StrCat("unix:", spec.socket_path);
  const bool ipv6 = spec.tcp->host.find(':') != std::string::npos;
  return ipv6 ? absl::StrCat("[", spec.tcp->host, "]:0") : absl::StrCat(spec.tcp->host, ":0");
}

std::string TransportFlag(WorkerTransport transport) {
  // shm is the native server plus the data plane (--shm-fd).
  return std::string(WorkerTransportName(transport == WorkerTransport::kShm ? WorkerTransport::kNative : transport));
}

std::vector<std::string> WorkerArgv(const WorkerSpec& spec, int lifeline_fd, int ready_fd, int stacks_fd) {
  std::vector<std::string> argv = {
      spec.python,
      "-m",
      "snakepit_worker",
      "--mode",
      std::string(ProfileName(spec.profile)),
      "--max-workers",
      std::to_string(spec.capacity),
      "--adapter",
      spec.adapter,
      "--listen",
      ListenAddress(spec),
      "--ready-fd",
      std::to_string(ready_fd),
      "--lifeline-fd",
      std::to_string(lifeline_fd),
      "--stacks-fd",
      std::to_string(stacks_fd),
      "--worker-id",
      spec.label(),
      "--preload",
      spec.preload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "--grace",
      absl::StrCat(absl::ToDoubleSeconds(spec.python_grace)),
      "--max-message-bytes",
      std::to_string(spec.max_message_bytes),
      "--transport",
      TransportFlag(spec.transport),
  };
  if (spec.thread_safety_checks) argv.push_back("--thread-safety-checks");
  if (spec.rlimit_as_mb > 0) {
    argv.push_back("--rlimit-as-mb");
    argv.push_back(std::to_string(spec.rlimit_as_mb));
  }
  if (spec.rlimit_nofile > 0) {
    argv.push_back("--rlimit-nofile");
    argv.push_back(std::to_string(spec.rlimit_nofile));
  }
  if (spec.tcp && !spec.tcp->tls_cert.empty()) {
    argv.insert(argv.end(), {"--tls-cert", spec.tcp->tls_cert, "--tls-key", spec.tcp->tls_key});
  }
  argv.insert(argv.end(), spec.extra_args.begin(), spec.extra_args.end());
  return argv;
}

}  // namespace snakepit::internal
