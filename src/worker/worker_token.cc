#include "worker/worker_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace snakepit::internal {
namespace {

// Fills `buffer` from `read_some` (a read(2)-like call), retrying on EINTR
// and short reads. Returns 0 or the errno of the failure.
template <typename ReadSome>
int FillFrom(std::array<std::uint8_t, kWorkerTokenBytes>& buffer, ReadSome read_some) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    const ssize_t n = read_some(buffer.data() + filled, buffer.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    filled += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::string> NewWorkerToken() {
  std::array<std::uint8_t, kWorkerTokenBytes> bytes{};
  int error = FillFrom(bytes, [](std::uint8_t* out, std::size_t n) { return ::getrandom(out, n, 0); });
  if (error == ENOSYS) {
    UniqueFd urandom(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
    error = !urandom.valid()
                ? errno
                : FillFrom(bytes, [&](std::uint8_t* out, std::size_t n) { return ::read(urandom.get(), out, n); });
  }
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot draw a worker token from the kernel's random source: ",
                                            std::generic_category().message(error)));
  }
  std::string token =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  bytes.fill(0);
  return token;
}

}  // namespace snakepit::internal
