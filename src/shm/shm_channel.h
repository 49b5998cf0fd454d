// ShmChannel: a duplex channel of framed messages between the host and one
// local worker, over two ShmRings in one ShmRegion: the host writes the
// first ring and reads the second, the worker the other way round. It is
// the shared-memory data plane's wire; both sides use this one class, so
// the format lives in one place (docs/worker-protocol.md, "Shared-memory
// data plane").
//
// A message is a FrameHeader (kind, call id, size) and a payload of any
// size up to the agreed limit, optionally followed by sections: raw blocks
// of bytes (a call's attachments) that travel beside the payload instead of
// inside it, so that neither end serializes them into, or parses them out
// of, a protobuf message. Each is copied once on each side: from the
// sender's buffer into the ring, and from the ring into a buffer of its own
// on the receiver (advised for huge pages when large, fresh_buffer.h).
// A message that does not fit one ring record is sent as several records,
// all written under the send lock, so the records of one message are never
// interleaved with another's; the receiver reassembles them. Fragments are
// at most a quarter of the ring, so the writer fills one while the reader
// empties another.
//
// Trust: each side checks what it reads (kinds, sizes, fragment lengths)
// against its own copy of the limits; a peer that lies makes Receive
// return DATA_LOSS, never read outside the region. Payloads are copied out
// of shared memory before the caller sees them, so the peer cannot change
// a message while it is parsed.
//
// Threading: Send is thread-safe (one sender at a time, under a lock);
// Receive must be called from one thread at a time (threads may take turns,
// see StepAway); Close from any thread.
#ifndef SNAKEPIT_SRC_SHM_SHM_CHANNEL_H_
#define SNAKEPIT_SRC_SHM_SHM_CHANNEL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "shm/shm_region.h"
#include "shm/shm_ring.h"

namespace snakepit::internal {

// What a message carries. The payload of each is a serialized snakepit.v1
// message, named here, unless said otherwise.
enum class FrameKind : std::uint32_t {
  kExecute = 1,        // host -> worker: ExecuteRequest, answered by kReply or kFail
  kExecuteStream = 2,  // host -> worker: ExecuteRequest, answered by kChunk... then kEnd or kFail
  kCancel = 3,         // host -> worker: CancelRequest
  kCredit = 4,         // host -> worker: 4-byte count of further chunks the stream may send
  kReply = 16,         // worker -> host: ExecuteResponse
  kChunk = 17,         // worker -> host: StreamMessage holding a chunk
  kEnd = 18,           // worker -> host: StreamMessage holding the end
  kFail = 19,          // worker -> host: 4-byte status code, then the message text (UTF-8)
};

// Whether `kind` is one of FrameKind's values.
bool KnownFrameKind(std::uint32_t kind);

struct Frame {
  FrameKind kind = FrameKind::kFail;
  std::uint64_t call_id = 0;
  // The payload, owned (copied out of the ring), `size` bytes.
  std::unique_ptr<std::byte[]> data;
  std::size_t size = 0;
  // The sections sent with it, in order; each owned by the frame.
  std::vector<std::string> sections;

  std::span<const std::byte> payload() const { return {data.get(), size}; }
};

class ShmChannel {
 public:
  enum class Side { kHost, kWorker };

  // The region size for two rings of `ring_bytes` each (a power of two, at
  // least 4096), in whole pages.
  static std::size_t RegionSize(std::size_t ring_bytes);

  // The host's end: formats both rings in `region` (fresh from
  // ShmRegion::Create, at least RegionSize(ring_bytes) bytes).
  static absl::StatusOr<std::unique_ptr<ShmChannel>> CreateHost(ShmRegion region, std::size_t ring_bytes,
                                                                std::size_t max_payload);
  // The worker's end, over a region the host formatted (FAILED_PRECONDITION
  // if it is not one, or not of this geometry).
  static absl::StatusOr<std::unique_ptr<ShmChannel>> AttachWorker(ShmRegion region, std::size_t ring_bytes,
                                                                  std::size_t max_payload);

  ShmChannel(const ShmChannel&) = delete;
  ShmChannel& operator=(const ShmChannel&) = delete;

  // Sends one message whose payload is the concatenation of `parts`,
  // followed by `sections`. Waits for room until `deadline`
  // (DEADLINE_EXCEEDED; a message already partly sent then poisons the
  // channel, which closes). INVALID_ARGUMENT when the whole message
  // exceeds max_payload, or its sections are too many for their table to
  // fit the first record (max_sections()); CANCELLED once closed.
  absl::Status Send(FrameKind kind, std::uint64_t call_id, std::initializer_list<std::span<const std::byte>> parts,
                    absl::Time deadline) ABSL_LOCKS_EXCLUDED(send_mu_) {
    return Send(kind, call_id, parts, std::span<const std::span<const std::byte>>(), deadline);
  }
  absl::Status Send(FrameKind kind, std::uint64_t call_id, std::initializer_list<std::span<const std::byte>> parts,
                    std::span<const std::span<const std::byte>> sections, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(send_mu_);
  // The same, the sections being strings.
  absl::Status Send(FrameKind kind, std::uint64_t call_id, std::initializer_list<std::span<const std::byte>> parts,
                    std::span<const std::string> sections, absl::Time deadline) ABSL_LOCKS_EXCLUDED(send_mu_);

  // The next message, waiting until `deadline` (DEADLINE_EXCEEDED, nothing
  // lost: call again) or an Interrupt (ABORTED, the same). CANCELLED once closed and drained; DATA_LOSS when
  // the peer broke the format (the channel is useless after that).
  // `poll`: how long each wait for the peer polls the ring before it
  // sleeps, while `keep_polling()` holds (ShmRing::Wait); default none.
  absl::StatusOr<Frame> Receive(absl::Time deadline, absl::Duration poll = absl::ZeroDuration(),
                                absl::FunctionRef<bool()> keep_polling = ShmRing::PollWhileSpinning);

  // Makes the current or next Receive return ABORTED at once (nothing
  // lost: call again), so that its thread can do other work. Any thread.
  void Interrupt();

  // Turns at receiving, for several threads that take them one at a time
  // (ShmRing's doorbell, on the receiving ring): the receiving thread
  // StepAway()s before it leaves to do other work, the next one to
  // receive StepBack()s; a thread waiting for its turn reads doorbell(),
  // then AwaitDoorbell()s, and is woken when a message comes while no
  // thread receives (or at Close).
  void StepAway() { in_.StepAway(); }
  void StepBack() { in_.StepBack(); }
  std::uint32_t doorbell() const { return in_.doorbell(); }
  void AwaitDoorbell(std::uint32_t observed, absl::Time deadline) { in_.AwaitDoorbell(observed, deadline); }
  // Wakes the stand-ins as a message would: for a thread that hands them
  // work of its own (ShmRing::RingDoorbell). Any thread.
  void WakeStandIns() { in_.RingDoorbell(); }

  // Closes both rings: blocked Send and Receive calls return. Idempotent.
  void Close();
  bool closed() const;

  // The memfd behind the channel (the host passes it to the worker).
  int fd() const { return region_.fd(); }
  std::size_t max_payload() const { return max_payload_; }
  // The largest record: a payload of at most fragment_bytes() - 24 bytes
  // goes in one record, which a Send can never leave half-written.
  std::size_t fragment_bytes() const { return fragment_; }
  // The most sections one message may carry: their table (8 bytes, then
  // 8 per section) goes in the first record.
  std::size_t max_sections() const;
  // What a message of `bytes` (payload and sections together) in
  // `sections` sections counts against max_payload(): the bytes and the
  // section table. A sender checks this before it gives up on a message
  // that Send would refuse.
  static std::size_t MessageBytes(std::size_t bytes, std::size_t sections);

 private:
  ShmChannel(ShmRegion region, ShmRing out, ShmRing in, std::size_t ring_bytes, std::size_t max_payload);
  static absl::StatusOr<std::unique_ptr<ShmChannel>> Make(ShmRegion region, std::size_t ring_bytes,
                                                          std::size_t max_payload, Side side);
  // The next record, waiting until `deadline`; Release() it after use.
  absl::StatusOr<std::span<const std::byte>> NextRecord(absl::Time deadline, absl::Duration poll,
                                                        absl::FunctionRef<bool()> keep_polling);
  // Starts partial_ from a message's first record.
  absl::Status StartMessage(std::span<const std::byte> record);
  // Copies `bytes` into the message being received, across its payload
  // and sections, from where the last copy stopped.
  void Deliver(std::span<const std::byte> bytes);

  ShmRegion region_;
  // common/mutex.h's, so that a TSan build sees the senders' locking.
  Mutex send_mu_;  // held for a whole message, fragments and all
  // Written under send_mu_; Close() is the exception (ShmRing::Close is
  // safe from any thread, and must not wait for a blocked Send).
  ShmRing out_;
  ShmRing in_;  // the receiving thread's, and Close()'s
  const std::size_t fragment_;
  const std::size_t max_payload_;
  // The message being received when Receive's deadline came mid-way: the
  // next Receive goes on with it.
  Frame partial_;
  std::size_t received_ = 0;  // of partial_'s bytes, its section table included
  std::size_t expected_ = 0;  // all of them
  bool receiving_ = false;
  // The sizes of partial_'s sections; where its bytes go next (0: the
  // payload, i + 1: section i), and how many that one holds already.
  std::vector<std::uint64_t> section_sizes_;
  std::size_t next_ = 0;
  std::size_t filled_ = 0;
  std::atomic<bool> interrupted_{false};
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_SHM_SHM_CHANNEL_H_
