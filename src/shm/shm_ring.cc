#include "shm/shm_ring.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "shm/futex.h"

namespace snakepit::internal {

// Wake-up protocol (both directions alike; here the reader):
//   reader: sleeping = 1; fence; re-check the head; sleep on seq if empty
//   writer: publish the head; fence; if sleeping: seq += 1, wake
// The two fences make it impossible for both to miss each other: either
// the writer sees `sleeping` and wakes, or the reader's re-check sees the
// new head. Reading `seq` before the re-check makes a wake that lands
// between the re-check and the futex call change the word, so the futex
// returns at once instead of sleeping through it.
struct ShmRing::Control {
  static constexpr std::uint64_t kMagic = 0x736e616b72696e67;  // "snakring"
  // 2: the reader's stand-in wake-up (reader_away, doorbell_seq).
  static constexpr std::uint32_t kVersion = 2;

  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t reserved;
  std::uint64_t capacity;
  alignas(64) std::atomic<std::uint64_t> head;  // bytes published, written by the writer
  std::atomic<std::uint32_t> readable_seq;
  std::atomic<std::uint32_t> reader_sleeping;
  alignas(64) std::atomic<std::uint64_t> tail;  // bytes consumed, written by the reader
  std::atomic<std::uint32_t> writable_seq;
  std::atomic<std::uint32_t> writer_sleeping;
  alignas(64) std::atomic<std::uint32_t> closed;
  // Raised by a reader that stepped away (StepAway): a writer then rings
  // doorbell_seq, which the reader's stand-ins sleep on.
  std::atomic<std::uint32_t> reader_away;
  std::atomic<std::uint32_t> doorbell_seq;
};

namespace {

constexpr std::uint32_t kPadding = 0xffffffffu;  // header of a padding record

std::uint64_t RecordSize(std::uint64_t payload) { return (8 + payload + 7) & ~std::uint64_t{7}; }

// Tells the CPU that this is a polling loop: it then spends less power on
// it and leaves more of a shared core to its sibling hyperthread.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

std::size_t ShmRing::ControlSize() { return (sizeof(Control) + 63) & ~std::size_t{63}; }

absl::Status ShmRing::Format(std::span<std::byte> memory, std::size_t capacity) {
  if (capacity < 64 || (capacity & (capacity - 1)) != 0 || capacity > (std::size_t{1} << 40)) {
    return absl::InvalidArgumentError(absl::StrCat("shm ring: capacity ", capacity, " is not a power of two >= 64"));
  }
  if (memory.size() < RegionSize(capacity) || reinterpret_cast<std::uintptr_t>(memory.data()) % 64 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("shm ring: ", memory.size(), " bytes cannot hold a ring of ",
                                                   capacity, " (needs ", RegionSize(capacity), ", 64-aligned)"));
  }
  auto* control = new (memory.data()) Control{};
  control->magic = Control::kMagic;
  control->version = Control::kVersion;
  control->capacity = capacity;
  return absl::OkStatus();
}

absl::StatusOr<ShmRing> ShmRing::Attach(std::span<std::byte> memory, std::size_t capacity) {
  if (memory.size() < RegionSize(capacity) || reinterpret_cast<std::uintptr_t>(memory.data()) % 64 != 0) {
    return absl::FailedPreconditionError(absl::StrCat("shm ring: region of ", memory.size(), " bytes is too small"));
  }
  auto* control = std::launder(reinterpret_cast<Control*>(memory.data()));
  if (control->magic != Control::kMagic || control->version != Control::kVersion || control->capacity != capacity) {
    return absl::FailedPreconditionError("shm ring: the region is not a formatted ring of the agreed capacity");
  }
  ShmRing ring(control, memory.data() + ControlSize(), capacity);
  ring.head_ = control->head.load(std::memory_order_acquire);
  ring.tail_ = control->tail.load(std::memory_order_acquire);
  return ring;
}

ShmRing::ShmRing(Control* control, std::byte* records, std::size_t capacity)
    : control_(control), records_(records), capacity_(capacity) {}

template <typename Ready>
absl::Status ShmRing::AwaitSide(Ready ready, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& sleeping,
                                absl::Time deadline, absl::Duration spin, absl::FunctionRef<bool()> keep_polling) {
  const absl::Time spin_until = std::min(deadline, absl::Now() + spin);
  for (int round = 0;; ++round) {
    if (absl::StatusOr<bool> r = ready(); !r.ok() || *r) return r.status();
    if (control_->closed.load(std::memory_order_acquire)) return absl::CancelledError("shm ring closed");
    // Check the clock every few rounds only: a clock read costs as much as
    // the poll itself.
    if (round % 16 == 15 && (absl::Now() >= spin_until || !keep_polling())) break;
    CpuRelax();
  }
  while (true) {
    sleeping.store(1, std::memory_order_relaxed);
    const std::uint32_t observed = seq.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    absl::StatusOr<bool> r = ready();
    if (!r.ok() || *r) {
      sleeping.store(0, std::memory_order_relaxed);
      return r.status();
    }
    if (control_->closed.load(std::memory_order_acquire)) {
      sleeping.store(0, std::memory_order_relaxed);
      return absl::CancelledError("shm ring closed");
    }
    if (!FutexWait(&seq, observed, deadline)) {
      sleeping.store(0, std::memory_order_relaxed);
      return absl::DeadlineExceededError("shm ring: deadline passed while waiting for the peer");
    }
  }
}

absl::StatusOr<std::span<std::byte>> ShmRing::Reserve(std::size_t size, absl::Time deadline) {
  if (size > MaxMessage(capacity_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("shm ring: a message of ", size, " bytes exceeds the ring's limit of ", MaxMessage(capacity_)));
  }
  if (closed()) return absl::CancelledError("shm ring closed");
  const std::uint64_t need = RecordSize(size);
  // Room for the record, plus the padding to the end when it would wrap.
  auto room = [&]() -> absl::StatusOr<bool> {
    const std::uint64_t tail = control_->tail.load(std::memory_order_acquire);
    if (tail > head_ || head_ - tail > capacity_) {
      return absl::DataLossError(absl::StrCat("shm ring: reader cursor ", tail, " is impossible (head ", head_, ")"));
    }
    const std::uint64_t free = capacity_ - (head_ - tail);
    const std::uint64_t to_end = capacity_ - head_ % capacity_;
    return need <= to_end ? need <= free : to_end + need <= free;
  };
  if (absl::Status waited = AwaitSide(room, control_->writable_seq, control_->writer_sleeping, deadline, spin_);
      !waited.ok()) {
    return waited;
  }
  const std::uint64_t to_end = capacity_ - head_ % capacity_;
  if (need > to_end) {
    const std::uint32_t padding = kPadding;
    std::memcpy(records_ + head_ % capacity_, &padding, sizeof padding);
    head_ += to_end;
  }
  reserved_at_ = head_;
  return std::span<std::byte>(records_ + head_ % capacity_ + kRecordHeader, size);
}

void ShmRing::Commit(std::size_t size) {
  const auto length = static_cast<std::uint32_t>(size);
  std::memcpy(records_ + reserved_at_ % capacity_, &length, sizeof length);
  head_ = reserved_at_ + RecordSize(size);
  control_->head.store(head_, std::memory_order_release);
  WakeReader();
}

absl::StatusOr<std::optional<std::span<const std::byte>>> ShmRing::Peek() {
  while (true) {
    const std::uint64_t head = control_->head.load(std::memory_order_acquire);
    if (head < tail_ || head - tail_ > capacity_) {
      return absl::DataLossError(absl::StrCat("shm ring: writer cursor ", head, " is impossible (tail ", tail_, ")"));
    }
    if (head == tail_) return std::nullopt;
    const std::uint64_t available = head - tail_;
    const std::uint64_t offset = tail_ % capacity_;
    std::uint32_t length = 0;
    std::memcpy(&length, records_ + offset, sizeof length);
    if (length == kPadding) {
      const std::uint64_t to_end = capacity_ - offset;
      if (to_end > available) return absl::DataLossError("shm ring: padding record runs past the published bytes");
      tail_ += to_end;
      control_->tail.store(tail_, std::memory_order_release);
      continue;
    }
    const std::uint64_t record = RecordSize(length);
    if (record > available || offset + record > capacity_) {
      return absl::DataLossError(absl::StrCat("shm ring: a record of ", length, " bytes at offset ", offset,
                                              " runs past the published bytes or the ring"));
    }
    peeked_ = record;
    return std::span<const std::byte>(records_ + offset + kRecordHeader, length);
  }
}

absl::Status ShmRing::Wait(absl::Time deadline) {
  auto readable = [&]() -> absl::StatusOr<bool> { return control_->head.load(std::memory_order_acquire) != tail_; };
  return AwaitSide(readable, control_->readable_seq, control_->reader_sleeping, deadline, spin_);
}

absl::Status ShmRing::Wait(absl::Time deadline, const std::atomic<bool>& interrupt, absl::Duration spin,
                           absl::FunctionRef<bool()> keep_polling) {
  auto readable = [&]() -> absl::StatusOr<bool> {
    return control_->head.load(std::memory_order_acquire) != tail_ || interrupt.load(std::memory_order_acquire);
  };
  return AwaitSide(readable, control_->readable_seq, control_->reader_sleeping, deadline, spin, keep_polling);
}

void ShmRing::WakeReaderNow() {
  // As a writer's wake-up (WakeReader), without a message: the reader's
  // re-check then sees whatever the caller set before.
  control_->readable_seq.fetch_add(1, std::memory_order_relaxed);
  FutexWake(&control_->readable_seq, 1);
}

void ShmRing::StepAway() {
  control_->reader_away.store(1, std::memory_order_relaxed);
  // Pairs with WakeReader's fence: a writer that published before this
  // saw no one away, so the message it left is rung for here.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (control_->head.load(std::memory_order_relaxed) != tail_) RingDoorbell();
}

void ShmRing::StepBack() { control_->reader_away.store(0, std::memory_order_relaxed); }

std::uint32_t ShmRing::doorbell() const { return control_->doorbell_seq.load(std::memory_order_acquire); }

void ShmRing::AwaitDoorbell(std::uint32_t observed, absl::Time deadline) {
  if (closed()) return;
  FutexWait(&control_->doorbell_seq, observed, deadline);
}

void ShmRing::RingDoorbell() {
  control_->doorbell_seq.fetch_add(1, std::memory_order_release);
  FutexWake(&control_->doorbell_seq, 1);
}

void ShmRing::Release() {
  tail_ += peeked_;
  peeked_ = 0;
  control_->tail.store(tail_, std::memory_order_release);
  WakeWriter();
}

void ShmRing::Close() {
  control_->closed.store(1, std::memory_order_release);
  control_->readable_seq.fetch_add(1, std::memory_order_relaxed);
  control_->writable_seq.fetch_add(1, std::memory_order_relaxed);
  control_->doorbell_seq.fetch_add(1, std::memory_order_relaxed);
  FutexWake(&control_->readable_seq, INT32_MAX);
  FutexWake(&control_->writable_seq, INT32_MAX);
  FutexWake(&control_->doorbell_seq, INT32_MAX);
}

bool ShmRing::closed() const { return control_->closed.load(std::memory_order_acquire) != 0; }

void ShmRing::WakeReader() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (control_->reader_sleeping.load(std::memory_order_relaxed)) {
    control_->readable_seq.fetch_add(1, std::memory_order_relaxed);
    FutexWake(&control_->readable_seq, 1);
  } else if (control_->reader_away.load(std::memory_order_relaxed)) {
    RingDoorbell();
  }
}

void ShmRing::WakeWriter() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (control_->writer_sleeping.load(std::memory_order_relaxed)) {
    control_->writable_seq.fetch_add(1, std::memory_order_relaxed);
    FutexWake(&control_->writable_seq, 1);
  }
}

}  // namespace snakepit::internal
