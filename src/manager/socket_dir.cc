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
// sun_path holds 108 bytes; leave room for "/<pool name>-<id>.sock".
constexpr size_t kMaxDirLength = 108 - 1 - 64 - 12;
}  // namespace

absl::StatusOr<std::unique_ptr<SocketDir>> SocketDir::Create(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    base = (runtime != nullptr && *runtime != '\0') ? runtime : "/tmp";
  }
  std::string templ = absl::StrCat(base, "/snakepit-XXXXXX");
  if (templ.size() > kMaxDirLength) {
    return absl::InvalidArgumentError(absl::StrCat("socket_dir: '", base, "' is too long for Unix socket paths (",
                                                   templ.size(), " > ", kMaxDirLength, " bytes)"));
  }
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {  // mkdtemp creates it 0700
    return absl::ErrnoToStatus(errno, absl::StrCat("socket_dir: cannot create a directory in '", base, "'"));
  }
  return std::unique_ptr<SocketDir>(new SocketDir(buffer.data()));
}

SocketDir::~SocketDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) logger()->warn("could not remove socket directory {}: {}", path_, ec.message());
}

}  // namespace snakepit::internal
