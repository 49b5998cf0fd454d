// `snakepit run --attach FILE` and `--save-attachments DIR`: attachments
// from and to files. Every error message names the file or folder.
#ifndef SNAKEPIT_SRC_CLI_ATTACHMENTS_H_
#define SNAKEPIT_SRC_CLI_ATTACHMENTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace snakepit::cli {

// The bytes of each file, in order. NOT_FOUND / PERMISSION_DENIED / ...
// naming the first file that cannot be read.
absl::StatusOr<std::vector<std::string>> ReadAttachments(const std::vector<std::string>& files);

// Makes `dir` (and its parents) if it does not exist and checks that files
// can be written in it. Run before the call, so that a bad folder fails
// before any worker starts.
absl::Status PrepareAttachmentDir(const std::string& dir);

// Writes attachment i as DIR/attachment-<i>.bin (replacing one there) and
// returns the paths written, in order; an error names the file.
absl::StatusOr<std::vector<std::string>> SaveAttachments(const std::string& dir,
                                                         const std::vector<std::string>& attachments);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_ATTACHMENTS_H_
