// ReserveAttachment and CopyAttachment (snakepit/call.h): the public face
// of fresh_buffer.h, which the data plane uses for what it receives. Its
// allocations' failures become statuses here: nothing throws across the
// API.
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "shm/fresh_buffer.h"
#include "snakepit/call.h"

namespace snakepit {

absl::StatusOr<std::string> ReserveAttachment(std::size_t size) {
  if (size > std::string().max_size()) {
    return absl::InvalidArgumentError(absl::StrCat("an attachment of ", size,
                                                   " bytes is more than a std::string can hold (at most ",
                                                   std::string().max_size(), ")"));
  }
  try {
    return internal::FreshReserve(size);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory reserving an attachment of ", size, " bytes"));
  }
}

absl::StatusOr<std::string> CopyAttachment(std::string_view bytes) {
  try {
    return internal::FreshCopy(bytes.data(), bytes.size());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory copying an attachment of ", bytes.size(), " bytes"));
  }
}

}  // namespace snakepit
