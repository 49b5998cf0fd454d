// Length-prefixed frames over a Unix stream socket, with descriptors
// attached: how the host talks to a worker template
// (python/snakepit_worker/template.py). A frame is a 4-byte big-endian
// length and that many bytes; descriptors travel with its first byte
// (SCM_RIGHTS).
//
// Every call has a deadline and never blocks past it (the socket is polled;
// it may be blocking or not). Errors: DEADLINE_EXCEEDED when the time ran
// out, UNAVAILABLE when the peer closed the socket or is gone, others from
// errno. After an error mid-frame the stream is out of step: close it.
// Threading: one sender and one receiver at a time per socket.
#ifndef SNAKEPIT_SRC_PROCESS_FRAME_SOCKET_H_
#define SNAKEPIT_SRC_PROCESS_FRAME_SOCKET_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace snakepit::internal {

// Frames larger than this are refused on both ends.
inline constexpr size_t kMaxFrameBytes = 16 << 20;

// Sends `body` as one frame with `fds` attached (the caller keeps its
// copies of them).
[[nodiscard]] absl::Status SendFrame(int socket, std::string_view body, const std::vector<int>& fds,
                                     absl::Time deadline);

// Receives one frame's body; descriptors sent with it are closed unread.
[[nodiscard]] absl::StatusOr<std::string> ReceiveFrame(int socket, absl::Time deadline);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_PROCESS_FRAME_SOCKET_H_
