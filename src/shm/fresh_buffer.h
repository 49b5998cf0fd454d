// Large buffers that are about to be written once, whole: the receiving
// end of the shared-memory data plane (attachments copied out of a ring).
//
// Why: a fresh buffer of many MiB is written through page faults, one per
// 4 KiB page. On a virtual machine each fault costs microseconds, and a
// 16 MiB buffer took 45-60 ms to fill here against 1-2 ms for the copy
// itself (docs/performance.md). Transparent huge pages make that one fault
// per 2 MiB. The machine's THP setting is usually "madvise", so the buffer
// has to ask: MADV_HUGEPAGE on the 2 MiB-aligned part of the allocation,
// before the first write. Where THP is off the advice is ignored and the
// buffer is an ordinary one.
//
// Threading: none; these are plain functions on memory the caller owns.
#ifndef SNAKEPIT_SRC_SHM_FRESH_BUFFER_H_
#define SNAKEPIT_SRC_SHM_FRESH_BUFFER_H_

#include <cstddef>
#include <string>

namespace snakepit::internal {

// Buffers smaller than this are not advised: they hold no aligned 2 MiB
// page, or too few to matter.
inline constexpr std::size_t kHugePageAdviceMin = std::size_t{4} << 20;

// Asks for huge pages on the whole 2 MiB pages inside [data, data + size),
// if size >= kHugePageAdviceMin. Memory not yet touched benefits; a failed
// madvise changes nothing and is ignored.
void AdviseHugePages(void* data, std::size_t size);

// An empty string with room for `size` bytes, its memory advised and not
// yet written: append the bytes (no reallocation up to `size`), which
// writes each page once, where resize() would zero them first.
std::string FreshReserve(std::size_t size);

// A copy of [data, data + size) in a string advised the same way.
std::string FreshCopy(const char* data, std::size_t size);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_SHM_FRESH_BUFFER_H_
