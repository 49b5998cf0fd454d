#include "manager/socket_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

constexpr char kDirTemplate[] = "/snakepit-XXXXXX";
constexpr std::size_t kDirTemplateLength = sizeof kDirTemplate - 1;
// "-" + the largest worker id (2147483647) + ".sock".
constexpr std::size_t kSocketSuffixLength = 1 + 10 + 5;

// The longest socket path a directory made in `parent` would hold.
std::size_t LongestPath(const std::string& parent, std::size_t longest_socket_name) {
  return parent.size() + kDirTemplateLength + 1 + longest_socket_name;
}

absl::Status CheckLength(const std::string& parent, std::size_t longest_socket_name) {
  const std::size_t longest = LongestPath(parent, longest_socket_name);
  if (longest <= kMaxSocketPathLength) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "socket_dir: '", parent, "' is too long for Unix socket paths: the longest socket path in it, '", parent,
      kDirTemplate, "/<pool>-<worker id>.sock', would be ", longest, " bytes, and the limit is ", kMaxSocketPathLength,
      " (", kMaxSocketPathLength - (longest - parent.size()), " bytes at most for socket_dir with these pool names)"));
}

absl::StatusOr<std::string> MakeDir(const std::string& parent, std::size_t longest_socket_name) {
  if (absl::Status length = CheckLength(parent, longest_socket_name); !length.ok()) return length;
  std::string templ = absl::StrCat(parent, kDirTemplate);
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {  // mkdtemp creates it 0700
    return absl::ErrnoToStatus(errno, absl::StrCat("socket_dir: cannot create a directory in '", parent, "'"));
  }
  return std::string(buffer.data());
}

}  // namespace

std::size_t SocketDir::LongestSocketName(const Config& config) {
  std::size_t longest = 0;
  for (const PoolConfig& pool : config.pools) {
    if (!pool.tcp) longest = std::max(longest, pool.name.size() + kSocketSuffixLength);
  }
  return longest;
}

absl::StatusOr<std::unique_ptr<SocketDir>> SocketDir::Create(const Config& config) {
  return Create(config.socket_dir, LongestSocketName(config));
}

absl::StatusOr<std::unique_ptr<SocketDir>> SocketDir::Create(const std::string& parent,
                                                             std::size_t longest_socket_name) {
  absl::StatusOr<std::string> path;
  if (!parent.empty()) {
    path = MakeDir(parent, longest_socket_name);
  } else {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime != nullptr && *runtime != '\0') {
      path = MakeDir(runtime, longest_socket_name);
      if (!path.ok()) {
        logger()->warn("XDG_RUNTIME_DIR cannot hold the worker sockets ({}); using /tmp",
                       std::string(path.status().message()));
      }
    }
    if (!path.ok()) path = MakeDir("/tmp", longest_socket_name);
  }
  if (!path.ok()) return path.status();
  return std::unique_ptr<SocketDir>(new SocketDir(*std::move(path)));
}

SocketDir::~SocketDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) logger()->warn("could not remove socket directory {}: {}", path_, ec.message());
}

}  // namespace snakepit::internal
