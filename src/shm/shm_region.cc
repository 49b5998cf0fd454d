#include "shm/shm_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;

// Errors that mean "no shared memory here, use another transport".
absl::Status RegionError(int err, std::string_view what, std::size_t size) {
  std::string message = absl::StrCat("shared memory: ", std::string(what), " of ", size,
                                     " bytes failed: ", std::string(std::strerror(err)));
  switch (err) {
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EFBIG:
      return absl::ResourceExhaustedError(std::move(message));
    default:
      return absl::UnavailableError(std::move(message));
  }
}

absl::StatusOr<std::byte*> MapShared(int fd, std::size_t size) {
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return RegionError(errno, "mmap", size);
  return static_cast<std::byte*>(base);
}

}  // namespace

absl::StatusOr<ShmRegion> ShmRegion::Create(const std::string& name, std::size_t size) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (size == 0) return absl::InvalidArgumentError("shared memory: a region needs at least one byte");
  size = (size + page - 1) / page * page;
  UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return RegionError(errno, "memfd_create", size);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return RegionError(errno, "ftruncate", size);
  // Reserve every page now: a tmpfs or memory cgroup too small for the
  // region fails here with ENOSPC, not later with SIGBUS.
  if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); err != 0) {
    return RegionError(err, "fallocate", size);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, kSizeSeals | F_SEAL_SEAL) != 0) return RegionError(errno, "sealing", size);
  auto base = MapShared(fd.get(), size);
  if (!base.ok()) return base.status();
  return ShmRegion(std::move(fd), *base, size);
}

absl::StatusOr<ShmRegion> ShmRegion::Map(UniqueFd fd, std::size_t expected_size) {
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0 || (seals & kSizeSeals) != kSizeSeals) {
    return absl::FailedPreconditionError(
        absl::StrCat("shared memory: fd ", fd.get(), " is not a memfd sealed against resizing"));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || static_cast<std::size_t>(info.st_size) != expected_size) {
    return absl::FailedPreconditionError(
        absl::StrCat("shared memory: fd ", fd.get(), " holds ", info.st_size, " bytes, expected ", expected_size));
  }
  auto base = MapShared(fd.get(), expected_size);
  if (!base.ok()) return base.status();
  return ShmRegion(std::move(fd), *base, expected_size);
}

ShmRegion::ShmRegion(ShmRegion&& other) noexcept
    : fd_(std::move(other.fd_)), base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ShmRegion& ShmRegion::operator=(ShmRegion&& other) noexcept {
  if (this != &other) {
    Unmap();
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

ShmRegion::~ShmRegion() { Unmap(); }

void ShmRegion::Unmap() {
  if (base_ != nullptr) ::munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
}

}  // namespace snakepit::internal
