#include "worker/ready_record.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace snakepit::internal {
namespace {
constexpr size_t kMaxRecordBytes = 1 << 20;
}  // namespace

absl::StatusOr<std::optional<nlohmann::json>> ReadReadyRecord(int fd, absl::Time deadline) {
  std::string buffer;
  char chunk[4096];
  while (buffer.find('\n') == std::string::npos) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no readiness record before the deadline");
    pollfd pfd{fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::ErrnoToStatus(errno, "poll(ready fd)");
    if (r == 0) continue;
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "read(ready fd)");
    if (n == 0) break;  // EOF
    buffer.append(chunk, static_cast<size_t>(n));
    if (buffer.size() > kMaxRecordBytes) return absl::InternalError("readiness record over 1 MiB");
  }
  if (buffer.find_first_not_of(" \r\n\t") == std::string::npos) return std::optional<nlohmann::json>();
  nlohmann::json record = nlohmann::json::parse(buffer.substr(0, buffer.find('\n')), nullptr, false);
  if (!record.is_object()) {
    return absl::InternalError(absl::StrCat("malformed readiness record: ", buffer.substr(0, 200)));
  }
  return std::optional<nlohmann::json>(std::move(record));
}

}  // namespace snakepit::internal
