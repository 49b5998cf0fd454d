#include "worker/template_process.h"

#include <signal.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "process/frame_socket.h"
#include "worker/ready_record.h"

namespace snakepit::internal {
namespace {

constexpr int kControlFd = 3;
constexpr int kReadyFd = 4;
// argv[0..2] of WorkerArgv(): the interpreter, "-m", "snakepit_worker".
constexpr size_t kInterpreterArgs = 3;

absl::StatusOr<std::pair<UniqueFd, UniqueFd>> SocketPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return FdError(errno, "socketpair");
  return std::make_pair(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

}  // namespace

std::vector<std::string> TemplateArgv(const WorkerSpec& spec, const std::string& label, int control_fd, int ready_fd) {
  return {spec.python,
          "-m",
          "snakepit_worker.template",
          "--control-fd",
          std::to_string(control_fd),
          "--ready-fd",
          std::to_string(ready_fd),
          "--adapter",
          spec.adapter,
          "--mode",
          std::string(ProfileName(spec.profile)),
          "--transport",
          TransportFlag(spec.transport),
          "--worker-id",
          label};
}

absl::StatusOr<std::unique_ptr<TemplateProcess>> TemplateProcess::Start(const WorkerSpec& spec, absl::Time deadline,
                                                                        std::function<void(const ExitInfo&)> on_exit) {
  const std::string label = absl::StrCat(spec.pool, "-template");
  SNAKEPIT_ASSIGN_OR_RETURN(auto control, SocketPair());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe ready, MakePipe());
  SNAKEPIT_ASSIGN_OR_RETURN(Pipe output, MakePipe());
  SpawnRequest request;
  request.executable = spec.python;
  request.argv = TemplateArgv(spec, label, kControlFd, kReadyFd);
  request.env = spec.env;  // the profile's: BLAS pinned before anything imports numpy
  request.fds = {{control.second.get(), kControlFd}, {ready.write.get(), kReadyFd}};
  request.output_fd = output.write.get();
  SNAKEPIT_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> child, ChildProcess::Spawn(request));
  control.second.reset();
  ready.write.reset();
  output.write.reset();
  std::unique_ptr<TemplateProcess> t(new TemplateProcess(label, std::move(child), std::move(control.first)));
  t->watcher_ = std::make_unique<OutputWatcher>(t->child_.get(), std::move(output.read), label, std::move(on_exit));

  SNAKEPIT_ASSIGN_OR_RETURN(std::optional<nlohmann::json> record, ReadReadyRecord(ready.read.get(), deadline));
  if (!record) {
    std::optional<ExitInfo> info = t->watcher_->WaitForExit(absl::Now() + absl::Seconds(2));
    return absl::UnavailableError(absl::StrCat("template exited (", info ? info->ToString() : "still running",
                                               ") before it was ready; its output:\n", t->watcher_->Tail()));
  }
  if (!record->value("ok", false)) {
    const nlohmann::json error = record->value("error", nlohmann::json::object());
    return absl::UnavailableError(
        absl::StrCat("template failed to start: ", error.value("type", "Error"), ": ", error.value("message", "")));
  }
  if (!record->value("forkable", false)) {
    std::vector<std::string> hazards;
    for (const nlohmann::json& h : record->value("hazards", nlohmann::json::array())) {
      if (h.is_string()) hazards.push_back(h.get<std::string>());
    }
    t->hazards_ = hazards.empty() ? "the template says it is not forkable" : absl::StrJoin(hazards, "; ");
  }
  return t;
}

TemplateProcess::~TemplateProcess() {
  {
    MutexLock lock(&mu_);
    control_.reset();  // its lifeline: it exits on EOF
  }
  if (watcher_ != nullptr && !watcher_->WaitForExit(absl::Now() + absl::Milliseconds(500))) {
    child_->Signal(SIGKILL);  // it has no children of its own: workers are ours
  }
  watcher_.reset();  // joins once it has been reaped
}

absl::StatusOr<std::unique_ptr<ChildProcess>> TemplateProcess::Fork(const std::vector<std::string>& argv,
                                                                    const std::string& token,
                                                                    const std::vector<int>& fds, absl::Time deadline) {
  if (argv.size() < kInterpreterArgs) return absl::InvalidArgumentError("worker argv too short");
  const nlohmann::json request = {{"argv", std::vector<std::string>(argv.begin() + kInterpreterArgs, argv.end())},
                                  {"token", token.empty() ? nlohmann::json() : nlohmann::json(token)}};
  absl::StatusOr<std::string> reply_text;
  {
    MutexLock lock(&mu_);
    if (!control_.valid()) return absl::UnavailableError(absl::StrCat(label_, " is gone"));
    absl::Status sent = SendFrame(
        control_.get(), request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), fds, deadline);
    reply_text = sent.ok() ? ReceiveFrame(control_.get(), deadline) : sent;
    if (!reply_text.ok()) control_.reset();  // out of step: this template is done
  }
  if (!reply_text.ok()) return absl::UnavailableError(absl::StrCat(label_, ": ", reply_text.status().message()));
  const nlohmann::json reply = nlohmann::json::parse(*reply_text, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) return absl::UnavailableError(absl::StrCat(label_, " sent a malformed reply"));
  if (reply.contains("error")) {
    return absl::UnavailableError(absl::StrCat(label_, " could not fork: ", reply.value("error", "")));
  }
  const int pid = reply.value("pid", 0);
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Adopt(pid);
  if (!child.ok()) return absl::UnavailableError(absl::StrCat(label_, ": ", child.status().message()));
  return child;
}

}  // namespace snakepit::internal
