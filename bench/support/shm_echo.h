// ShmEcho: the shared-memory floor. A forked child (plain C++: no Python,
// no protobuf) echoes every message of a request ring onto a reply ring,
// two ShmRings (src/shm/) in memfd regions: what a round trip through the
// library's own ring costs before any protocol work. The micro-benchmark
// (noop/shm_ring) and the payload scenario (8) both measure through it.
#ifndef SNAKEPIT_BENCH_SUPPORT_SHM_ECHO_H_
#define SNAKEPIT_BENCH_SUPPORT_SHM_ECHO_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace snakepit::bench {

class ShmEcho {
 public:
  // Rings large enough for one message of `max_message` bytes (the
  // capacity is the next power of two above it and its record header:
  // two such regions are reserved). `spin` is how long each side polls
  // before it sleeps (ShmRing::set_spin). RESOURCE_EXHAUSTED or
  // UNAVAILABLE when the memory cannot be had, INTERNAL when fork fails.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ShmEcho>> Start(std::size_t max_message,
                                                                      absl::Duration spin = absl::ZeroDuration());
  // Closes the request ring, which ends the child, and reaps it.
  ~ShmEcho();
  ShmEcho(const ShmEcho&) = delete;
  ShmEcho& operator=(const ShmEcho&) = delete;

  pid_t pid() const;

  // Copies `size` bytes into the request ring and waits (5 s at most) for
  // the echo; with `reply`, copies the echo out into it (resized to the
  // echo's size), as a receiver that keeps the bytes would. DATA_LOSS when
  // the echo's size differs.
  [[nodiscard]] absl::Status RoundTrip(const char* message, std::size_t size, std::string* reply = nullptr);

 private:
  struct State;  // shm_echo.cc: the regions, this side's rings, the child
  explicit ShmEcho(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_SHM_ECHO_H_
