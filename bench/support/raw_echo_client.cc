#include "support/raw_echo_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace snakepit::bench {

absl::Status WriteAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return absl::UnavailableError("peer closed the connection");
    if (n < 0) return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RawEchoClient>> RawEchoClient::Connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect ", path, ": ", std::strerror(err)));
  }
  return std::unique_ptr<RawEchoClient>(new RawEchoClient(fd));
}

RawEchoClient::~RawEchoClient() { ::close(fd_); }

absl::Status RawEchoClient::RoundTrip(const std::string& message, std::string* reply) {
  // Header and a small body in one send, as a real protocol would.
  std::string frame(8, '\0');
  const std::uint64_t size = message.size();
  std::memcpy(frame.data(), &size, sizeof size);
  if (message.size() <= 64 * 1024) {
    frame += message;
    if (absl::Status s = WriteAll(fd_, frame.data(), frame.size()); !s.ok()) return s;
  } else {
    if (absl::Status s = WriteAll(fd_, frame.data(), frame.size()); !s.ok()) return s;
    if (absl::Status s = WriteAll(fd_, message.data(), message.size()); !s.ok()) return s;
  }
  std::uint64_t echoed = 0;
  if (absl::Status s = ReadAll(fd_, reinterpret_cast<char*>(&echoed), sizeof echoed); !s.ok()) return s;
  reply->resize(echoed);
  return ReadAll(fd_, reply->data(), reply->size());
}

}  // namespace snakepit::bench
