// fresh_buffer.h: large fresh buffers are advised for transparent huge
// pages before their first write, and hold what they should. The advice is
// read back from the kernel (/proc/self/smaps's VmFlags "hg"), so the test
// fails if the madvise call is dropped or misaligned. No Python; "unit".
#include "shm/fresh_buffer.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "snakepit/call.h"

namespace snakepit::internal {
namespace {

// The VmFlags of the mapping holding `address`, from /proc/self/smaps; ""
// if none holds it.
std::string VmFlagsAt(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> start >> dash >> end && dash == '-') {
      inside = start <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Kernels built without transparent huge pages refuse the advice (EINVAL),
// which the library ignores; there is nothing to read back then.
bool KernelHasThp() { return std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good(); }

TEST(FreshBuffer, ALargeReservationIsAdvisedForHugePagesAndFillsWithoutMoving) {
  if (!KernelHasThp()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  std::string s = FreshReserve(8 * kMiB);
  EXPECT_TRUE(s.empty());
  ASSERT_GE(s.capacity(), 8 * kMiB);
  const char* const at = s.data();
  for (int i = 0; i < 8; ++i) s.append(kMiB, static_cast<char>('a' + i));
  EXPECT_EQ(s.data(), at) << "filling the reservation reallocated it";
  EXPECT_EQ(s[5 * kMiB], 'f');
  // The middle of the buffer lies in its 2 MiB-aligned part.
  const std::string flags = VmFlagsAt(s.data() + 4 * kMiB);
  ASSERT_FALSE(flags.empty()) << "no mapping holds the buffer";
  EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
}

TEST(FreshBuffer, ACopyHoldsItsSourceAndIsAdvisedToo) {
  if (!KernelHasThp()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  std::string source(6 * kMiB, '\0');
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>(i * 31 % 253);
  const std::string copy = FreshCopy(source.data(), source.size());
  EXPECT_TRUE(copy == source);
  EXPECT_NE(VmFlagsAt(copy.data() + 3 * kMiB).find(" hg"), std::string::npos);
}

// The caller's side (snakepit/call.h): the same buffers, for attachments
// a caller fills or copies before it moves them into CallOptions.
TEST(FreshBuffer, TheCallersAttachmentBuffersAreAdvisedToo) {
  if (!KernelHasThp()) GTEST_SKIP() << "this kernel has no transparent huge pages";
  absl::StatusOr<std::string> filled = ReserveAttachment(8 * kMiB);
  ASSERT_TRUE(filled.ok()) << filled.status();
  ASSERT_GE(filled->capacity(), 8 * kMiB);
  const char* const at = filled->data();
  filled->append(8 * kMiB, 'z');
  EXPECT_EQ(filled->data(), at) << "filling the reservation reallocated it";
  EXPECT_NE(VmFlagsAt(filled->data() + 4 * kMiB).find(" hg"), std::string::npos);
  std::string source(6 * kMiB, '\0');
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>(i * 7 % 251);
  const absl::StatusOr<std::string> copy = CopyAttachment(source);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_TRUE(*copy == source);
  EXPECT_NE(VmFlagsAt(copy->data() + 3 * kMiB).find(" hg"), std::string::npos);
  EXPECT_EQ(CopyAttachment("abc").value_or(""), "abc");
  EXPECT_EQ(ReserveAttachment(0).value_or("x"), "");
}

// Absurd sizes are errors that name the size, never an exception.
TEST(FreshBuffer, AnAttachmentTooLargeToHoldIsAnErrorNotAThrow) {
  const std::size_t absurd = std::numeric_limits<std::size_t>::max();
  const absl::StatusOr<std::string> refused = ReserveAttachment(absurd);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(refused.status().message().find(std::to_string(absurd)), std::string::npos) << refused.status();
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // More than any address space here (a sanitizer's allocator would abort
  // the process instead of failing the allocation).
  const absl::StatusOr<std::string> unmet = ReserveAttachment(std::size_t{1} << 50);
  ASSERT_EQ(unmet.status().code(), absl::StatusCode::kResourceExhausted) << unmet.status();
  EXPECT_NE(unmet.status().message().find(std::to_string(std::size_t{1} << 50)), std::string::npos);
#endif
}

TEST(FreshBuffer, SmallBuffersAreLeftAlone) {
  // Below kHugePageAdviceMin: no advice (a heap chunk shares its mapping
  // with other allocations, which must not change behind their backs).
  const std::string small = FreshReserve(kHugePageAdviceMin - 1);
  EXPECT_GE(small.capacity(), kHugePageAdviceMin - 1);
  EXPECT_EQ(FreshCopy("abc", 3), "abc");
  EXPECT_EQ(FreshReserve(0), "");
}

}  // namespace
}  // namespace snakepit::internal
