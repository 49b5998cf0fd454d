#include "cli/attachments.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace snakepit::cli {
namespace {

// "<what>: <strerror>". `error` is an errno value; 0 (a stream that
// failed without setting errno) reads as EIO.
absl::Status FileError(int error, const std::string& what) {
  return absl::ErrnoToStatus(error != 0 ? error : EIO, what);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ReadAttachments(const std::vector<std::string>& files) {
  std::vector<std::string> blobs;
  for (const std::string& file : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) return FileError(EISDIR, absl::StrCat("cannot read '", file, "'"));
    std::ifstream in(file, std::ios::binary);
    if (!in) return FileError(errno, absl::StrCat("cannot read '", file, "'"));
    blobs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return FileError(errno, absl::StrCat("error reading '", file, "'"));
  }
  return blobs;
}

absl::Status PrepareAttachmentDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FileError(ec.value(), absl::StrCat("cannot create folder '", dir, "'"));
  if (!std::filesystem::is_directory(dir, ec)) return FileError(ENOTDIR, absl::StrCat("'", dir, "' is not a folder"));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return FileError(errno, absl::StrCat("cannot write in folder '", dir, "'"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SaveAttachments(const std::string& dir,
                                                         const std::vector<std::string>& attachments) {
  std::vector<std::string> written;
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    const std::string path = (std::filesystem::path(dir) / absl::StrCat("attachment-", i, ".bin")).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) out.write(attachments[i].data(), static_cast<std::streamsize>(attachments[i].size()));
    if (out) out.close();
    if (!out) return FileError(errno, absl::StrCat("cannot write '", path, "'"));
    written.push_back(path);
  }
  return written;
}

}  // namespace snakepit::cli
