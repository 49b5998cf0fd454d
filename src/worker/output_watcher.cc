#include "worker/output_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_join.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {
constexpr size_t kTailLines = 40;
constexpr size_t kMaxLineBytes = 4096;

// A log record line of the worker, "[<label>] <LEVEL> <logger>: <text>"
// (python/snakepit_worker/log_format.py): its level, and the line from the
// logger name on. Anything else is nullopt (a plain output line).
struct RecordLine {
  spdlog::level::level_enum level;
  std::string_view rest;
};

std::optional<RecordLine> ParseRecordLine(std::string_view line, std::string_view label) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"DEBUG", spdlog::level::debug}, {"INFO", spdlog::level::info},         {"WARNING", spdlog::level::warn},
      {"ERROR", spdlog::level::err},   {"CRITICAL", spdlog::level::critical},
  };
  if (line.size() < label.size() + 3 || line[0] != '[' || line.substr(1, label.size()) != label ||
      line.substr(label.size() + 1, 2) != "] ") {
    return std::nullopt;
  }
  line.remove_prefix(label.size() + 3);
  for (const auto& [name, level] : kLevels) {
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ' ') {
      return RecordLine{level, line.substr(name.size() + 1)};
    }
  }
  return std::nullopt;
}

}  // namespace

OutputWatcher::OutputWatcher(ChildProcess* child, UniqueFd output, std::string label, ExitCallback on_exit)
    : child_(child), output_(std::move(output)), label_(std::move(label)), on_exit_(std::move(on_exit)) {
  if (output_.valid()) ::fcntl(output_.get(), F_SETFL, ::fcntl(output_.get(), F_GETFL) | O_NONBLOCK);
  thread_ = std::thread([this] { Run(); });
}

OutputWatcher::~OutputWatcher() {
  if (thread_.joinable()) thread_.join();
}

void OutputWatcher::Run() {
  while (true) {
    pollfd fds[2] = {{child_->pidfd(), POLLIN, 0}, {output_.get(), POLLIN, 0}};
    const int nfds = output_.valid() ? 2 : 1;
    if (::poll(fds, nfds, -1) < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid fds; fall through to reaping
    }
    if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) ConsumeOutput(false);
    if (fds[0].revents & POLLIN) break;
  }
  // The process is gone: collect what it printed last, then reap it.
  ConsumeOutput(true);
  std::optional<ExitInfo> info = child_->WaitForExit(absl::Now() + absl::Seconds(5));
  const ExitInfo exit_info = info.value_or(ExitInfo{});
  {
    MutexLock lock(&mu_);
    exit_info_ = exit_info;
  }
  if (on_exit_) on_exit_(exit_info);
  exited_.Notify();
}

void OutputWatcher::ConsumeOutput(bool until_eof) {
  char chunk[8192];
  while (output_.valid()) {
    const ssize_t n = ::read(output_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // EAGAIN: nothing more for now. After the exit, a grandchild may still
      // hold the pipe open: stop reading rather than wait for it.
      if (until_eof || errno != EAGAIN) output_.reset();
      break;
    }
    if (n == 0) {
      output_.reset();
      break;
    }
    partial_.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      AddLine(partial_.substr(start, nl - start));
    }
    partial_.erase(0, start);
    if (partial_.size() > kMaxLineBytes) AddLine(std::exchange(partial_, {}));
  }
  if (!output_.valid() && !partial_.empty()) AddLine(std::exchange(partial_, {}));
}

void OutputWatcher::AddLine(std::string line) {
  if (line.size() > kMaxLineBytes) line.resize(kMaxLineBytes);
  // A Python log record at its own level; plain output at info, where the
  // library's default logger shows it.
  if (std::optional<RecordLine> record = ParseRecordLine(line, label_)) {
    logger()->log(record->level, "[{} pid {}] {}", label_, child_->pid(), record->rest);
  } else {
    logger()->info("[{} pid {}] {}", label_, child_->pid(), line);
  }
  MutexLock lock(&mu_);
  tail_.push_back(std::move(line));
  if (tail_.size() > kTailLines) tail_.pop_front();
}

std::optional<ExitInfo> OutputWatcher::WaitForExit(absl::Time deadline) {
  if (!exited_.WaitForNotificationWithDeadline(deadline)) return std::nullopt;
  MutexLock lock(&mu_);
  return exit_info_;
}

std::string OutputWatcher::Tail() const {
  MutexLock lock(&mu_);
  return absl::StrJoin(tail_, "\n");
}

}  // namespace snakepit::internal
