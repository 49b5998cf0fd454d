#include "shm/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace snakepit::internal {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "a futex word must be a plain, lock-free 32-bit integer");

long Futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const timespec* timeout) {
  // FUTEX_BITSET_MATCH_ANY with FUTEX_WAIT_BITSET makes the timeout absolute.
  return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr,
                   FUTEX_BITSET_MATCH_ANY);
}

}  // namespace

bool FutexWait(std::atomic<std::uint32_t>* word, std::uint32_t expected, absl::Time deadline) {
  timespec until{};
  const timespec* timeout = nullptr;
  if (deadline != absl::InfiniteFuture()) {
    if (absl::Now() >= deadline) return false;
    until = absl::ToTimespec(deadline);
    timeout = &until;
  }
  // CLOCK_REALTIME: absl::Time is wall-clock time.
  const long rc = Futex(word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, expected, timeout);
  return rc == 0 || errno != ETIMEDOUT;
}

void FutexWake(std::atomic<std::uint32_t>* word, int count) {
  Futex(word, FUTEX_WAKE_BITSET, static_cast<std::uint32_t>(count), nullptr);
}

}  // namespace snakepit::internal
