#include "shm/shm_channel.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shm/fresh_buffer.h"

namespace snakepit::internal {
namespace {

// The first record of every message. Both ends run on one machine, so the
// fields are in its byte order.
struct FrameHeader {
  std::uint32_t kind;
  std::uint32_t flags;  // kHasSections, or 0
  std::uint64_t call_id;
  // The message's bytes after the header, in this record and the ones
  // after it: the section table if any, the payload, the sections.
  std::uint64_t size;
};
static_assert(sizeof(FrameHeader) == 24);

// The message carries sections. Its bytes start with their table: a u32
// count, a u32 0, then a u64 length per section; the table lies wholly in
// the first record.
constexpr std::uint32_t kHasSections = 1;
constexpr std::size_t kTableHead = 8;
constexpr std::size_t kTableEntry = 8;

constexpr std::size_t kMinRing = 4096;

std::span<std::byte> RingMemory(const ShmRegion& region, std::size_t ring_bytes, int index) {
  const std::size_t size = ShmRing::RegionSize(ring_bytes);
  return region.bytes().subspan(static_cast<std::size_t>(index) * size, size);
}

absl::Status Poisoned(const std::string& why) {
  return absl::DataLossError(absl::StrCat("shared-memory channel: ", why));
}

}  // namespace

bool KnownFrameKind(std::uint32_t kind) {
  switch (static_cast<FrameKind>(kind)) {
    case FrameKind::kExecute:
    case FrameKind::kExecuteStream:
    case FrameKind::kCancel:
    case FrameKind::kCredit:
    case FrameKind::kReply:
    case FrameKind::kChunk:
    case FrameKind::kEnd:
    case FrameKind::kFail:
      return true;
  }
  return false;
}

std::size_t ShmChannel::RegionSize(std::size_t ring_bytes) {
  // Rounded up to whole pages, as ShmRegion::Create sizes the memfd.
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (2 * ShmRing::RegionSize(ring_bytes) + page - 1) / page * page;
}

absl::StatusOr<std::unique_ptr<ShmChannel>> ShmChannel::CreateHost(ShmRegion region, std::size_t ring_bytes,
                                                                   std::size_t max_payload) {
  if (ring_bytes < kMinRing || (ring_bytes & (ring_bytes - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("shared-memory ring of ", ring_bytes, " bytes: must be a power of two of at least ", kMinRing));
  }
  if (region.bytes().size() < RegionSize(ring_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("shared-memory region of ", region.bytes().size(),
                                                   " bytes is too small for two rings of ", ring_bytes));
  }
  for (int i = 0; i < 2; ++i) {
    absl::Status formatted = ShmRing::Format(RingMemory(region, ring_bytes, i), ring_bytes);
    if (!formatted.ok()) return formatted;
  }
  return Make(std::move(region), ring_bytes, max_payload, Side::kHost);
}

absl::StatusOr<std::unique_ptr<ShmChannel>> ShmChannel::AttachWorker(ShmRegion region, std::size_t ring_bytes,
                                                                     std::size_t max_payload) {
  if (ring_bytes < kMinRing || (ring_bytes & (ring_bytes - 1)) != 0 || region.bytes().size() < RegionSize(ring_bytes)) {
    return absl::FailedPreconditionError(absl::StrCat("shared-memory region of ", region.bytes().size(),
                                                      " bytes does not hold two rings of ", ring_bytes));
  }
  return Make(std::move(region), ring_bytes, max_payload, Side::kWorker);
}

absl::StatusOr<std::unique_ptr<ShmChannel>> ShmChannel::Make(ShmRegion region, std::size_t ring_bytes,
                                                             std::size_t max_payload, Side side) {
  // Ring 0 carries host -> worker, ring 1 worker -> host.
  const int out_index = side == Side::kHost ? 0 : 1;
  absl::StatusOr<ShmRing> out = ShmRing::Attach(RingMemory(region, ring_bytes, out_index), ring_bytes);
  if (!out.ok()) return out.status();
  absl::StatusOr<ShmRing> in = ShmRing::Attach(RingMemory(region, ring_bytes, 1 - out_index), ring_bytes);
  if (!in.ok()) return in.status();
  return std::unique_ptr<ShmChannel>(
      new ShmChannel(std::move(region), std::move(*out), std::move(*in), ring_bytes, max_payload));
}

ShmChannel::ShmChannel(ShmRegion region, ShmRing out, ShmRing in, std::size_t ring_bytes, std::size_t max_payload)
    : region_(std::move(region)),
      out_(std::move(out)),
      in_(std::move(in)),
      fragment_(ring_bytes / 4),
      max_payload_(max_payload) {}

std::size_t ShmChannel::max_sections() const { return (fragment_ - sizeof(FrameHeader) - kTableHead) / kTableEntry; }

std::size_t ShmChannel::MessageBytes(std::size_t bytes, std::size_t sections) {
  return sections == 0 ? bytes : bytes + kTableHead + kTableEntry * sections;
}

absl::Status ShmChannel::Send(FrameKind kind, std::uint64_t call_id,
                              std::initializer_list<std::span<const std::byte>> parts,
                              std::span<const std::string> sections, absl::Time deadline) {
  std::vector<std::span<const std::byte>> views;
  views.reserve(sections.size());
  for (const std::string& section : sections) views.push_back(std::as_bytes(std::span(section)));
  return Send(kind, call_id, parts, std::span<const std::span<const std::byte>>(views), deadline);
}

absl::Status ShmChannel::Send(FrameKind kind, std::uint64_t call_id,
                              std::initializer_list<std::span<const std::byte>> parts,
                              std::span<const std::span<const std::byte>> sections, absl::Time deadline) {
  if (sections.size() > max_sections()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message with ", sections.size(), " attachments; the shared-memory channel carries at most ", max_sections()));
  }
  // Everything after the header, in order: the section table, the payload
  // parts, the sections.
  std::vector<std::byte> table;
  std::vector<std::span<const std::byte>> pieces;
  pieces.reserve(1 + parts.size() + sections.size());
  if (!sections.empty()) {
    table.resize(kTableHead + kTableEntry * sections.size());
    const auto count = static_cast<std::uint32_t>(sections.size());
    std::memcpy(table.data(), &count, sizeof count);
    for (std::size_t i = 0; i < sections.size(); ++i) {
      const std::uint64_t length = sections[i].size();
      std::memcpy(table.data() + kTableHead + kTableEntry * i, &length, sizeof length);
    }
    pieces.emplace_back(table);
  }
  pieces.insert(pieces.end(), parts.begin(), parts.end());
  pieces.insert(pieces.end(), sections.begin(), sections.end());
  std::size_t size = 0;
  for (const auto& piece : pieces) size += piece.size();  // the table included: MessageBytes
  if (size > max_payload_) {
    return absl::InvalidArgumentError(
        absl::StrCat("message of ", size, " bytes exceeds the shared-memory channel's limit of ", max_payload_));
  }
  const FrameHeader header{static_cast<std::uint32_t>(kind), sections.empty() ? 0 : kHasSections, call_id, size};
  MutexLock lock(&send_mu_);
  // Copies the pieces, from where the last record stopped, into records of
  // at most fragment_ bytes; the first record starts with the header.
  auto piece = pieces.begin();
  std::size_t piece_offset = 0;
  std::size_t left = size;
  bool first = true;
  while (first || left > 0) {
    const std::size_t head = first ? sizeof header : 0;
    const std::size_t body = std::min(left, fragment_ - head);
    absl::StatusOr<std::span<std::byte>> record = out_.Reserve(head + body, deadline);
    if (!record.ok()) {
      // A message cut short would make the reader take the next message's
      // bytes for the rest of this one: no message may follow.
      if (!first) out_.Close();
      return record.status();
    }
    std::byte* to = record->data();
    if (first) std::memcpy(to, &header, sizeof header);
    to += head;
    for (std::size_t copied = 0; copied < body;) {
      while (piece_offset == piece->size()) {
        ++piece;
        piece_offset = 0;
      }
      const std::size_t n = std::min(body - copied, piece->size() - piece_offset);
      std::memcpy(to + copied, piece->data() + piece_offset, n);
      copied += n;
      piece_offset += n;
    }
    out_.Commit(head + body);
    left -= body;
    first = false;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::span<const std::byte>> ShmChannel::NextRecord(absl::Time deadline, absl::Duration poll,
                                                                  absl::FunctionRef<bool()> keep_polling) {
  while (true) {
    absl::StatusOr<std::optional<std::span<const std::byte>>> record = in_.Peek();
    if (!record.ok()) return record.status();
    if (record->has_value()) return **record;
    if (interrupted_.exchange(false, std::memory_order_acq_rel)) return absl::AbortedError("interrupted");
    absl::Status waited = in_.Wait(deadline, interrupted_, poll, keep_polling);
    if (!waited.ok()) return waited;
  }
}

absl::Status ShmChannel::StartMessage(std::span<const std::byte> record) {
  FrameHeader header;
  if (record.size() < sizeof header) return Poisoned(absl::StrCat("a record of ", record.size(), " bytes"));
  std::memcpy(&header, record.data(), sizeof header);
  if (!KnownFrameKind(header.kind)) return Poisoned(absl::StrCat("unknown frame kind ", header.kind));
  if ((header.flags & ~kHasSections) != 0) return Poisoned(absl::StrCat("unknown frame flags ", header.flags));
  if (header.size > max_payload_) {
    return Poisoned(absl::StrCat("a message of ", header.size, " bytes, over the limit of ", max_payload_));
  }
  std::span<const std::byte> body = record.subspan(sizeof header);
  if (body.size() > header.size || (body.size() < header.size && record.size() != fragment_)) {
    return Poisoned(absl::StrCat("a first record of ", record.size(), " bytes for a message of ", header.size));
  }
  // The section table, checked against the message's size before anything
  // is allocated from it.
  std::vector<std::uint64_t> lengths;
  std::size_t table = 0;
  if ((header.flags & kHasSections) != 0) {
    std::uint32_t count = 0;
    std::uint32_t zero = 0;
    if (body.size() >= kTableHead) {
      std::memcpy(&count, body.data(), sizeof count);
      std::memcpy(&zero, body.data() + sizeof count, sizeof zero);
    }
    table = kTableHead + kTableEntry * std::size_t{count};
    if (body.size() < kTableHead || zero != 0 || count > max_sections() || body.size() < table) {
      return Poisoned(
          absl::StrCat("a section table of ", count, " entries in a first record of ", record.size(), " bytes"));
    }
    lengths.resize(count);
    std::uint64_t total = table;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::memcpy(&lengths[i], body.data() + kTableHead + kTableEntry * i, sizeof lengths[i]);
      if (lengths[i] > header.size - total) {
        return Poisoned(absl::StrCat("sections longer than their message of ", header.size, " bytes"));
      }
      total += lengths[i];
    }
  }
  partial_.kind = static_cast<FrameKind>(header.kind);
  partial_.call_id = header.call_id;
  partial_.size = header.size - table;
  for (const std::uint64_t length : lengths) partial_.size -= length;
  partial_.data.reset(new std::byte[std::max<std::size_t>(partial_.size, 1)]);
  AdviseHugePages(partial_.data.get(), partial_.size);
  partial_.sections.clear();
  partial_.sections.reserve(lengths.size());
  for (const std::uint64_t length : lengths) partial_.sections.push_back(FreshReserve(length));
  section_sizes_ = std::move(lengths);
  next_ = 0;
  filled_ = 0;
  expected_ = header.size;
  received_ = body.size();
  receiving_ = true;
  Deliver(body.subspan(table));
  return absl::OkStatus();
}

void ShmChannel::Deliver(std::span<const std::byte> bytes) {
  // The payload and the sections add up to the message's size
  // (StartMessage), and no record brings more than is left of it
  // (Receive): every byte has a place. Destination 0 is the payload, i + 1
  // section i, which was reserved whole: appending never reallocates.
  while (!bytes.empty() && next_ <= section_sizes_.size()) {
    const std::size_t size = next_ == 0 ? partial_.size : section_sizes_[next_ - 1];
    const std::size_t n = std::min(bytes.size(), size - filled_);
    if (next_ == 0) {
      std::memcpy(partial_.data.get() + filled_, bytes.data(), n);
    } else {
      partial_.sections[next_ - 1].append(reinterpret_cast<const char*>(bytes.data()), n);
    }
    filled_ += n;
    bytes = bytes.subspan(n);
    if (filled_ == size) {
      ++next_;
      filled_ = 0;
    }
  }
}

absl::StatusOr<Frame> ShmChannel::Receive(absl::Time deadline, absl::Duration poll,
                                          absl::FunctionRef<bool()> keep_polling) {
  while (!receiving_ || received_ < expected_) {
    absl::StatusOr<std::span<const std::byte>> record = NextRecord(deadline, poll, keep_polling);
    if (!record.ok()) return record.status();
    absl::Status taken;
    if (!receiving_) {
      taken = StartMessage(*record);
    } else {
      const std::size_t left = expected_ - received_;
      // Every fragment but the last is full.
      if (record->size() != std::min(left, fragment_)) {
        taken = Poisoned(absl::StrCat("a fragment of ", record->size(), " bytes with ", left, " to come"));
      } else {
        Deliver(*record);
        received_ += record->size();
      }
    }
    in_.Release();
    if (!taken.ok()) {
      Close();
      return taken;
    }
  }
  receiving_ = false;
  received_ = 0;
  expected_ = 0;
  section_sizes_.clear();
  return std::exchange(partial_, Frame{});
}

void ShmChannel::Interrupt() {
  interrupted_.store(true, std::memory_order_release);
  in_.WakeReaderNow();
}

void ShmChannel::Close() {
  // ShmRing::Close only sets a word and wakes; it is safe beside a Send
  // that waits under send_mu_ (see out_).
  out_.Close();
  in_.Close();
}

bool ShmChannel::closed() const { return in_.closed(); }

}  // namespace snakepit::internal
