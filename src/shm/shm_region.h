// ShmRegion: a shared-memory mapping backed by a memfd, for the data plane
// between the host and one local worker.
//
// The creator (the host) makes the memfd, sizes it, seals it against
// shrinking and growing, and reserves its pages; the peer (the worker) maps
// the descriptor it inherited and checks those seals. The seals matter for
// safety: a peer that could shrink the file would make every access past
// the new end a SIGBUS in the other process. The reservation (fallocate)
// matters for the fallback: a memory limit that cannot hold the region
// shows as an error from Create(), at pool start, instead of a SIGBUS on
// first touch in the middle of a call.
//
// Ownership: the region owns its mapping and its descriptor; moving it
// moves both; destruction unmaps and closes. Not thread-safe to move while
// other threads use bytes().
#ifndef SNAKEPIT_SRC_SHM_SHM_REGION_H_
#define SNAKEPIT_SRC_SHM_SHM_REGION_H_

#include <cstddef>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace snakepit::internal {

class ShmRegion {
 public:
  // A new region of `size` bytes (rounded up to the page size), zeroed,
  // sealed and reserved. `name` shows in /proc/<pid>/fd and maps
  // ("memfd:<name>"). Errors: RESOURCE_EXHAUSTED when the memory cannot be
  // had (ENOSPC, ENOMEM, EMFILE), UNAVAILABLE when memfds are refused
  // (ENOSYS, EPERM under a seccomp filter); both mean "use another
  // transport", and the message says which call failed and why.
  static absl::StatusOr<ShmRegion> Create(const std::string& name, std::size_t size);

  // Maps a region received from its creator. Fails with FAILED_PRECONDITION
  // unless `fd` is a memfd of exactly `expected_size` bytes sealed against
  // shrinking and growing. Takes ownership of `fd` either way.
  static absl::StatusOr<ShmRegion> Map(UniqueFd fd, std::size_t expected_size);

  ShmRegion(ShmRegion&& other) noexcept;
  ShmRegion& operator=(ShmRegion&& other) noexcept;
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;
  ~ShmRegion();

  std::span<std::byte> bytes() const { return {base_, size_}; }
  // The memfd; stays open for the life of the region (pass it to a child).
  int fd() const { return fd_.get(); }

 private:
  ShmRegion(UniqueFd fd, std::byte* base, std::size_t size) : fd_(std::move(fd)), base_(base), size_(size) {}
  void Unmap();

  UniqueFd fd_;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_SHM_SHM_REGION_H_
