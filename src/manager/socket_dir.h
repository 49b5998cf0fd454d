// SocketDir: a private directory (mode 0700) holding one PoolManager's
// worker sockets. Removed, with anything left in it, on destruction.
#ifndef SNAKEPIT_SRC_MANAGER_SOCKET_DIR_H_
#define SNAKEPIT_SRC_MANAGER_SOCKET_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace snakepit::internal {

class SocketDir {
 public:
  // Creates "<parent>/snakepit-XXXXXX". An empty `parent` means
  // $XDG_RUNTIME_DIR if set, else /tmp.
  static absl::StatusOr<std::unique_ptr<SocketDir>> Create(const std::string& parent);
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
