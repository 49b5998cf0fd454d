#include "shm/fresh_buffer.h"

#include <sys/mman.h>

#include <cstdint>

namespace snakepit::internal {

void AdviseHugePages(void* data, std::size_t size) {
  if (size < kHugePageAdviceMin) return;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto start = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (start + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (start + size) & ~(kHuge - 1);
  if (last <= first) return;
  (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

std::string FreshReserve(std::size_t size) {
  std::string s;
  s.reserve(size);  // allocated, not yet written
  AdviseHugePages(s.data(), size);
  return s;
}

std::string FreshCopy(const char* data, std::size_t size) {
  std::string s = FreshReserve(size);
  s.append(data, size);  // fits the capacity: no reallocation
  return s;
}

}  // namespace snakepit::internal
