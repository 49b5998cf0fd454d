// SocketDir: a private directory (mode 0700) holding one PoolManager's
// worker sockets. Removed, with anything left in it, on destruction.
#ifndef SNAKEPIT_SRC_MANAGER_SOCKET_DIR_H_
#define SNAKEPIT_SRC_MANAGER_SOCKET_DIR_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "snakepit/config.h"

namespace snakepit::internal {

// The longest path a Unix socket can have: sun_path holds 108 bytes, NUL
// included.
inline constexpr std::size_t kMaxSocketPathLength = 107;

class SocketDir {
 public:
  // Creates "<parent>/snakepit-XXXXXX", where every socket named up to
  // `longest_socket_name` bytes (see LongestSocketName) fits in
  // kMaxSocketPathLength.
  //
  // A non-empty `parent` is used as given: INVALID_ARGUMENT, naming the
  // lengths, when it is too long; the mkdtemp error when it cannot hold
  // the directory. An empty `parent` means $XDG_RUNTIME_DIR if set, else
  // /tmp; an $XDG_RUNTIME_DIR that is too long or cannot hold the
  // directory is passed over for /tmp, with a warning in the log.
  static absl::StatusOr<std::unique_ptr<SocketDir>> Create(const std::string& parent, std::size_t longest_socket_name);

  // Create(config.socket_dir, LongestSocketName(config)).
  static absl::StatusOr<std::unique_ptr<SocketDir>> Create(const Config& config);

  // The longest socket file name the Unix pools of `config` can use,
  // "<pool>-<worker id>.sock" with the largest worker id (a 32-bit int);
  // 0 when every pool uses TCP.
  static std::size_t LongestSocketName(const Config& config);

  ~SocketDir();
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit SocketDir(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_MANAGER_SOCKET_DIR_H_
