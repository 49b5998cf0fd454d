// ShmRing: a single-producer, single-consumer queue of messages in memory
// shared by two processes, one that writes and one that reads.
//
// Layout: a control block (the cursors, each on its own cache line, and
// the wake-up words) followed by `capacity` bytes of records. A record is
// an 8-byte header (payload length) and the payload, padded to 8 bytes; a
// record never wraps: when it does not fit before the end, the writer
// leaves a padding record there and starts again at offset 0.
//
// Trust: the two sides do not trust each other. Each keeps its own copy of
// the geometry (given at Attach, never re-read from shared memory) and of
// its own cursor; every length and cursor read from the region is checked
// against what the other side can have published, so that a peer that
// scribbles over the region makes Read/Reserve return DATA_LOSS, and never
// makes this side read or write outside the region. A message is published
// whole (the head moves after its bytes are written), so a writer that dies
// mid-write leaves nothing half-written for the reader to see.
//
// Payload views are into shared memory: the peer can still change those
// bytes. Copy before parsing anything whose consistency matters (lengths,
// offsets); bulk payloads may be used in place.
//
// Waiting: a side polls for `spin` (default none) and then sleeps on a
// futex, never past its deadline. Close() (either side, any thread) wakes both; after it,
// Reserve fails with CANCELLED and Wait returns CANCELLED once the
// messages published before the close are read: that is how the host
// stops waiting for a worker it saw die.
//
// Threading: at most one thread writes (Reserve/Commit) and one reads
// (Peek/Release/Wait...) at a time per side object; Close() is safe from
// any thread.
#ifndef SNAKEPIT_SRC_SHM_SHM_RING_H_
#define SNAKEPIT_SRC_SHM_SHM_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace snakepit::internal {

class ShmRing {
 public:
  // The keep_polling condition of a wait that polls for its whole spin.
  static bool PollWhileSpinning() { return true; }

  struct Control;  // shm_ring.cc; the first ControlSize() bytes of a ring

  // Bytes a ring with `capacity` bytes of records occupies.
  static std::size_t ControlSize();
  static std::size_t RegionSize(std::size_t capacity) { return ControlSize() + capacity; }
  // The largest payload one message may carry.
  static std::size_t MaxMessage(std::size_t capacity) { return capacity - kRecordHeader; }

  // Formats `memory` as an empty ring (the creator does this once, before
  // the peer maps it). `capacity` must be a power of two, at least 64;
  // `memory` at least RegionSize(capacity) bytes, 64-byte aligned.
  [[nodiscard]] static absl::Status Format(std::span<std::byte> memory, std::size_t capacity);

  // This side's view of a formatted ring. Checks the control block's magic
  // and that `capacity` is the one agreed on (from the creator, never from
  // the region): FAILED_PRECONDITION otherwise.
  static absl::StatusOr<ShmRing> Attach(std::span<std::byte> memory, std::size_t capacity);

  // Writer side. Reserve() returns `size` writable bytes for the next
  // message, waiting (spin, then sleep) until there is room or `deadline`
  // (DEADLINE_EXCEEDED); INVALID_ARGUMENT if `size` > MaxMessage; CANCELLED
  // once closed; DATA_LOSS if the reader's cursor is impossible. Commit()
  // publishes the reserved message with its first `size` bytes (at most
  // the reserved size) and wakes a sleeping reader.
  absl::StatusOr<std::span<std::byte>> Reserve(std::size_t size, absl::Time deadline);
  void Commit(std::size_t size);

  // Reader side. Peek() returns the next message without waiting: empty
  // optional when there is none yet, DATA_LOSS when the region is
  // inconsistent. Wait() waits until a message is there (OK), `deadline`
  // (DEADLINE_EXCEEDED) or Close (CANCELLED). Release() frees the message
  // Peek returned; its view is invalid after.
  absl::StatusOr<std::optional<std::span<const std::byte>>> Peek();
  absl::Status Wait(absl::Time deadline);
  void Release();
  // Wait that also returns OK once `*interrupt` is true (this process's
  // flag, which WakeReader() then makes a sleeping reader see), polling for
  // `spin` (instead of set_spin's) before it sleeps, and only while
  // `keep_polling()` holds: asked about once a microsecond, from this
  // thread; false makes it sleep at once.
  absl::Status Wait(absl::Time deadline, const std::atomic<bool>& interrupt, absl::Duration spin,
                    absl::FunctionRef<bool()> keep_polling);
  absl::Status Wait(absl::Time deadline, const std::atomic<bool>& interrupt) {
    return Wait(deadline, interrupt, spin_, PollWhileSpinning);
  }
  // Wakes this ring's reader if it sleeps, whether or not a message came:
  // for a reader in this process that has something else to do.
  void WakeReaderNow();

  // A reader that stands in for another (several threads taking turns at
  // reading, one at a time) sleeps on the doorbell, which a writer rings
  // instead of the ordinary wake-up while the reader is away: StepAway()
  // (the reading thread leaves to do other work; it rings at once if a
  // message is already there), StepBack() (a thread reads again). A
  // stand-in reads doorbell() first, then, finding no turn to take,
  // AwaitDoorbell(observed, deadline) returns once the doorbell rang
  // since, at `deadline`, or at Close. Reader side only.
  void StepAway();
  void StepBack();
  std::uint32_t doorbell() const;
  void AwaitDoorbell(std::uint32_t observed, absl::Time deadline);
  // Rings the doorbell whether or not a message came: for a reader in this
  // process that hands a stand-in something other than the ring's messages.
  void RingDoorbell();

  // Marks the ring closed and wakes both sides. Idempotent.
  void Close();
  bool closed() const;

  // How long a side polls before it sleeps on the futex. Default: not at
  // all. Polling pays only when a core is free for it: a futex wake-up
  // costs about 10 us each way on the 2-vCPU VMs this runs on (bench/micro
  // noop/shm_ring 22.7 us against noop/shm_ring_spin 0.9 us, each side on
  // a core of its own), but a poll that keeps the peer from a core makes
  // the round trip slower (worker/reply_polling.h decides for the host).
  void set_spin(absl::Duration spin) { spin_ = spin; }

 private:
  static constexpr std::size_t kRecordHeader = 8;
  ShmRing(Control* control, std::byte* records, std::size_t capacity);

  // Waits until `ready()` holds, spinning then sleeping on `seq` with
  // `sleeping` raised, per the protocol in shm_ring.cc.
  template <typename Ready>
  absl::Status AwaitSide(Ready ready, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& sleeping,
                         absl::Time deadline, absl::Duration spin,
                         absl::FunctionRef<bool()> keep_polling = PollWhileSpinning);
  void WakeReader();
  void WakeWriter();

  Control* control_;
  std::byte* records_;
  std::size_t capacity_;
  absl::Duration spin_ = absl::ZeroDuration();
  // Writer state: its own head, and where the reservation starts.
  std::uint64_t head_ = 0;
  std::uint64_t reserved_at_ = 0;
  // Reader state: its own tail, and the size of the record Peek returned.
  std::uint64_t tail_ = 0;
  std::uint64_t peeked_ = 0;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_SHM_SHM_RING_H_
