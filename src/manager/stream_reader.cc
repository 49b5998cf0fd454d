// StreamReader (include/snakepit/stream.h): a handle on a StreamChannel.
#include <utility>

#include "pool/stream_channel.h"
#include "snakepit/stream.h"

namespace snakepit {

StreamReader::StreamReader(std::shared_ptr<internal::StreamChannel> channel) : channel_(std::move(channel)) {}

StreamReader::~StreamReader() { Cancel(); }

StreamReader& StreamReader::operator=(StreamReader&& other) noexcept {
  if (this != &other) {
    Cancel();  // the stream this reader held is abandoned
    channel_ = std::move(other.channel_);
  }
  return *this;
}

absl::StatusOr<std::optional<Chunk>> StreamReader::Next() {
  if (channel_ == nullptr) return absl::FailedPreconditionError("StreamReader: no stream (moved from or default)");
  return channel_->Next();
}

void StreamReader::Cancel() {
  // Once the stream has ended the router no longer watches the token: a
  // stop then changes nothing.
  if (channel_ != nullptr && !channel_->finished()) channel_->RequestCancel();
}

std::size_t StreamReader::buffered_chunks() const { return channel_ ? channel_->buffered_chunks() : 0; }
std::size_t StreamReader::max_buffered_chunks() const { return channel_ ? channel_->max_buffered_chunks() : 0; }
std::size_t StreamReader::buffered_bytes() const { return channel_ ? channel_->buffered_bytes() : 0; }
std::size_t StreamReader::max_buffered_bytes() const { return channel_ ? channel_->max_buffered_bytes() : 0; }

}  // namespace snakepit
