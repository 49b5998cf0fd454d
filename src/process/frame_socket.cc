#include "process/frame_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

// Waits until `socket` is ready for `events` or the deadline passes.
absl::Status Await(int socket, short events, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("template socket: timed out");
    pollfd pfd{socket, events, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::ErrnoToStatus(errno, "poll(template socket)");
    if (ready > 0) return absl::OkStatus();
  }
}

absl::Status PeerGone(int err) {
  return absl::UnavailableError(absl::StrCat("template socket: the template is gone (", ::strerrorname_np(err), ")"));
}

// Closes the descriptors of every SCM_RIGHTS message in `msg`.
void CloseReceivedFds(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      ::close(fd);
    }
  }
}

absl::Status ReceiveExactly(int socket, char* data, size_t size, absl::Time deadline) {
  size_t done = 0;
  while (done < size) {
    if (absl::Status ready = Await(socket, POLLIN, deadline); !ready.ok()) return ready;
    iovec iov{data + done, size - done};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return PeerGone(errno);
    CloseReceivedFds(msg);
    if (n == 0) return PeerGone(EPIPE);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SendFrame(int socket, std::string_view body, const std::vector<int>& fds, absl::Time deadline) {
  if (body.size() > kMaxFrameBytes) return absl::InvalidArgumentError("template frame too large");
  if (fds.size() > 8) return absl::InvalidArgumentError("at most 8 descriptors per template frame");
  const uint32_t length = static_cast<uint32_t>(body.size());
  std::string frame = {static_cast<char>(length >> 24), static_cast<char>(length >> 16), static_cast<char>(length >> 8),
                       static_cast<char>(length)};
  frame.append(body);
  size_t done = 0;
  while (done < frame.size()) {
    if (absl::Status ready = Await(socket, POLLOUT, deadline); !ready.ok()) return ready;
    iovec iov{frame.data() + done, frame.size() - done};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (done == 0 && !fds.empty()) {  // the descriptors ride on the first byte
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = ::sendmsg(socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return PeerGone(errno);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReceiveFrame(int socket, absl::Time deadline) {
  unsigned char header[4];
  if (absl::Status s = ReceiveExactly(socket, reinterpret_cast<char*>(header), sizeof header, deadline); !s.ok()) {
    return s;
  }
  const size_t length = (size_t{header[0]} << 24) | (size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3];
  if (length > kMaxFrameBytes) return absl::DataLossError(absl::StrCat("template frame of ", length, " bytes"));
  std::string body(length, '\0');
  if (absl::Status s = ReceiveExactly(socket, body.data(), length, deadline); !s.ok()) return s;
  return body;
}

}  // namespace snakepit::internal
