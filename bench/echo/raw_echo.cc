#include "echo/raw_echo.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "support/raw_echo_client.h"

namespace snakepit::bench {
namespace {

void Serve(int fd) {
  std::string buffer;
  while (true) {
    std::uint64_t size = 0;
    if (!ReadAll(fd, reinterpret_cast<char*>(&size), sizeof size).ok()) break;
    // Header and body go back in one buffer, so a small echo is one send.
    buffer.resize(sizeof size + size);
    std::memcpy(buffer.data(), &size, sizeof size);
    if (!ReadAll(fd, buffer.data() + sizeof size, size).ok()) break;
    if (!WriteAll(fd, buffer.data(), buffer.size()).ok()) break;
  }
  ::close(fd);
}

}  // namespace

absl::Status StartRawEcho(const std::string& path) {
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path.c_str());
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 16) != 0) {
    return absl::InternalError(absl::StrCat("bind/listen ", path, ": ", std::strerror(errno)));
  }
  std::thread([listener] {
    while (true) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) std::thread(Serve, fd).detach();
    }
  }).detach();
  return absl::OkStatus();
}

}  // namespace snakepit::bench
