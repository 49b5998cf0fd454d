#include "process/run_capture.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"

namespace snakepit::internal {

absl::StatusOr<CapturedRun> RunAndCapture(SpawnRequest request, absl::Time deadline, std::size_t max_output) {
  absl::StatusOr<Pipe> pipe = MakePipe();
  if (!pipe.ok()) return pipe.status();
  request.output_fd = pipe->write.get();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(request);
  if (!child.ok()) return child.status();
  pipe->write.reset();  // EOF comes once the child (and its children) close theirs

  CapturedRun run;
  char buffer[16384];
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("'", request.executable, "' did not finish in time; output so far:\n", run.output));
    }
    pollfd pfd{pipe->read.get(), POLLIN, 0};
    const int timeout_ms = static_cast<int>(std::min<std::int64_t>(absl::ToInt64Milliseconds(left) + 1, 1'000));
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return absl::InternalError(absl::StrCat("poll: errno ", errno));
    if (ready <= 0) continue;
    const ssize_t n = ::read(pipe->read.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF (or an error: the exit status tells the rest)
    const std::size_t room = max_output - std::min(max_output, run.output.size());
    run.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
  }
  std::optional<ExitInfo> exit = (*child)->WaitForExit(deadline);
  if (!exit) {
    return absl::DeadlineExceededError(absl::StrCat("'", request.executable, "' closed its output but did not exit"));
  }
  run.exit = *exit;
  return run;
}

}  // namespace snakepit::internal
