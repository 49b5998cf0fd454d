#include "scenarios/verdict.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "absl/strings/str_cat.h"

namespace snakepit::bench {
namespace {

std::string VerdictLine(std::string_view target, bool met, std::string_view measured) {
  return absl::StrCat("  verdict: ", std::string(target), ": ", met ? "met" : "NOT met", " (", std::string(measured),
                      ")");
}

std::string NoVerdictLine(std::string_view target, std::string_view why) {
  return absl::StrCat("  verdict: ", std::string(target), ": none, ", std::string(why));
}

void WriteAllTo(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;  // stdout is gone: nothing left to tell
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void PrintVerdict(const BenchEnv& env, std::string_view target, bool met, std::string_view measured) {
  if (env.flags.quick) return;
  std::printf("%s\n", VerdictLine(target, met, measured).c_str());
}

void PrintNoVerdict(const BenchEnv& env, std::string_view target, std::string_view why) {
  if (env.flags.quick) return;
  std::printf("%s\n", NoVerdictLine(target, why).c_str());
}

bool LooksLikeVerdict(std::string_view line) {
  static const std::regex kVerdict(R"(\b(verdict|met|missed)\b|target:)", std::regex::icase);
  return std::regex_search(line.begin(), line.end(), kVerdict);
}

absl::Status CheckVerdictDetector() {
  for (const std::string& line : {VerdictLine("x", true, "y"), VerdictLine("x", false, "y"), NoVerdictLine("x", "y")}) {
    if (!LooksLikeVerdict(line)) return absl::InternalError("the --quick guard would miss the line: " + line);
  }
  if (LooksLikeVerdict("  process 1    1 callers:    572 calls/s  metric p50 1721 us")) {
    return absl::InternalError("the --quick guard flags a plain figure line");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<QuickOutputGuard>> QuickOutputGuard::Start() {
  std::fflush(stdout);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed for the --quick output guard");
  const int saved = ::fcntl(1, F_DUPFD_CLOEXEC, 10);
  // fd 1 itself must stay inheritable: children write through it too.
  if (saved < 0 || ::dup2(fds[1], 1) < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    if (saved >= 0) ::close(saved);
    return absl::InternalError("dup2 failed for the --quick output guard");
  }
  ::close(fds[1]);
  auto guard = std::unique_ptr<QuickOutputGuard>(new QuickOutputGuard(saved, fds[0]));
  guard->reader_ = std::thread([g = guard.get()] { g->Read(); });
  return guard;
}

void QuickOutputGuard::Read() {
  std::string pending;
  char buf[4096];
  while (true) {
    pollfd p{.fd = read_end_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready == 0) {
      if (stop_.load()) break;
      continue;
    }
    const ssize_t n = ready > 0 ? ::read(read_end_, buf, sizeof buf) : -1;
    if (n <= 0) break;  // EOF (every writer closed) or an error
    WriteAllTo(saved_stdout_, buf, static_cast<std::size_t>(n));
    pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
      if (LooksLikeVerdict(std::string_view(pending).substr(0, eol))) flagged_.push_back(pending.substr(0, eol));
    }
  }
  if (!pending.empty() && LooksLikeVerdict(pending)) flagged_.push_back(pending);
}

std::vector<std::string> QuickOutputGuard::Finish() {
  if (finished_) return flagged_;
  finished_ = true;
  std::fflush(stdout);
  ::dup2(saved_stdout_, 1);  // our write end goes; children may still hold theirs
  stop_.store(true);
  reader_.join();
  ::close(read_end_);
  ::close(saved_stdout_);
  return flagged_;
}

QuickOutputGuard::~QuickOutputGuard() { Finish(); }

}  // namespace snakepit::bench
