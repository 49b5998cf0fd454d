// Futex wait and wake on a 32-bit word in memory shared between processes.
//
// These are the process-shared forms (no FUTEX_PRIVATE_FLAG): the word may
// live in a mapping that another process maps at another address. They are
// the sleeping half of ShmRing's wake-up protocol; the protocol itself (who
// sets which flag before which check) is in shm_ring.cc.
#ifndef SNAKEPIT_SRC_SHM_FUTEX_H_
#define SNAKEPIT_SRC_SHM_FUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace snakepit::internal {

// Sleeps while `*word == expected`, until FutexWake on the same word or
// `deadline` (absl::InfiniteFuture(): no deadline). Returns false when the
// deadline passed, true otherwise (woken, the word already differed, or a
// signal interrupted the wait): callers re-check their condition in both
// cases, so a spurious true is harmless.
bool FutexWait(std::atomic<std::uint32_t>* word, std::uint32_t expected, absl::Time deadline);

// Wakes up to `count` threads, of any process, sleeping on `word`.
void FutexWake(std::atomic<std::uint32_t>* word, int count);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_SHM_FUTEX_H_
