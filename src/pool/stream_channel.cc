#include "pool/stream_channel.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/callback_scope.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

// How long past the call's deadline Next() waits for the router's deadline
// timer before it gives up by itself.
constexpr absl::Duration kDeadlineSlack = absl::Seconds(2);

std::size_t ChunkBytes(const Chunk& chunk) {
  // The JSON text the worker sent would be exact; its re-serialised size is
  // close and costs nothing to keep: the figure is for bounds, not billing.
  std::size_t bytes = chunk.data.is_string() ? chunk.data.get_ref<const std::string&>().size() : 16;
  if (chunk.data.is_structured()) bytes = chunk.data.dump().size();
  for (const std::string& a : chunk.attachments) bytes += a.size();
  return bytes;
}

// Whether an end drops the chunks the reader has not taken: its caller
// gave up on the call.
bool DropsBuffered(const absl::Status& status) { return absl::IsCancelled(status) || absl::IsDeadlineExceeded(status); }

}  // namespace

StreamChannel::StreamChannel(std::size_t capacity, std::shared_ptr<StreamGauges> gauges)
    : capacity_(std::max<std::size_t>(capacity, 1)), gauges_(std::move(gauges)) {
  gauges_->open.fetch_add(1);
  gauges_->opened.fetch_add(1);
}

StreamChannel::StreamChannel(ChunkCallback on_chunk, EndCallback on_end, std::shared_ptr<StreamGauges> gauges)
    : capacity_(0), on_chunk_(std::move(on_chunk)), on_end_(std::move(on_end)), gauges_(std::move(gauges)) {
  gauges_->open.fetch_add(1);
  gauges_->opened.fetch_add(1);
}

StreamChannel::~StreamChannel() {
  MutexLock lock(&mu_);
  Unbuffer(chunks_.size(), bytes_);
  if (!finished_) gauges_->open.fetch_sub(1);  // never submitted
}

void StreamChannel::SetControl(std::shared_ptr<StreamControl> control) {
  std::shared_ptr<StreamControl> resume;
  {
    MutexLock lock(&mu_);
    control_ = std::move(control);
    if (control_ != nullptr && std::exchange(resume_wanted_, false)) resume = control_;
  }
  if (resume) resume->Resume();
}

void StreamChannel::SetDeadline(absl::Time deadline) {
  MutexLock lock(&mu_);
  deadline_ = deadline;
}

bool StreamChannel::Push(Chunk chunk) {
  const std::size_t bytes = capacity_ > 0 ? ChunkBytes(chunk) : 0;
  {
    MutexLock lock(&mu_);
    if (finished_) {
      // Its caller has gone: drop it, and keep reading so the worker's
      // stream runs to its end (and frees the slot).
      gauges_->dropped.fetch_add(1);
      return true;
    }
    if (capacity_ > 0) {
      chunks_.emplace_back(std::move(chunk), bytes);
      bytes_ += bytes;
      gauges_->buffered_chunks.fetch_add(1);
      gauges_->buffered_bytes.fetch_add(static_cast<std::int64_t>(bytes));
      max_chunks_ = std::max(max_chunks_, chunks_.size());
      max_bytes_ = std::max(max_bytes_, bytes_);
      if (chunks_.size() < capacity_) return true;
      producer_paused_ = true;
      return false;
    }
    delivering_ = true;
  }
  DeliverChunk(std::move(chunk));
  return true;
}

void StreamChannel::DeliverChunk(Chunk chunk) {
  gauges_->chunks.fetch_add(1);
  bool failed = false;
  {
    LibraryCallbackScope scope;
    try {
      on_chunk_(std::move(chunk));
    } catch (const std::exception& e) {
      logger()->error("snakepit: a stream's chunk callback threw: {}; cancelling the stream", e.what());
      failed = true;
    } catch (...) {
      logger()->error("snakepit: a stream's chunk callback threw a non-std exception; cancelling the stream");
      failed = true;
    }
  }
  EndCallback end;
  absl::Status status;
  {
    MutexLock lock(&mu_);
    delivering_ = false;
    if (std::exchange(end_pending_, false)) {
      end = std::move(on_end_);
      status = status_;
    }
  }
  if (failed) RequestCancel();
  if (end) {
    LibraryCallbackScope scope;
    end(std::move(status));
  }
}

void StreamChannel::Finish(absl::Status status) {
  EndCallback end;
  std::shared_ptr<StreamControl> resume;
  {
    MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    status_ = status;
    gauges_->open.fetch_sub(1);
    if (DropsBuffered(status_)) {
      Unbuffer(chunks_.size(), bytes_);
      chunks_.clear();
      bytes_ = 0;
    }
    // A paused worker stream reads on (dropping what comes) to its end.
    if (std::exchange(producer_paused_, false)) {
      if (control_ != nullptr) {
        resume = control_;
      } else {
        resume_wanted_ = true;
      }
    }
    if (capacity_ == 0) {
      if (delivering_) {
        end_pending_ = true;
      } else {
        end = std::move(on_end_);
      }
    }
  }
  if (resume) resume->Resume();
  if (end) {
    LibraryCallbackScope scope;
    end(std::move(status));
  }
}

absl::StatusOr<std::optional<Chunk>> StreamChannel::Next() {
  if (capacity_ == 0) return absl::FailedPreconditionError("a callback stream has no reader");
  std::shared_ptr<StreamControl> resume;
  std::optional<Chunk> chunk;
  {
    MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !chunks_.empty() || finished_; };
    // The router ends every stream by its deadline; this bound is a safety
    // net behind it.
    (void)mu_.AwaitWithDeadline(Condition(&ready), deadline_ + kDeadlineSlack);
    if (chunks_.empty()) {
      if (!finished_) {
        return absl::DeadlineExceededError("stream: no chunk and no end by the call's deadline");
      }
      if (!status_.ok()) return status_;
      return std::optional<Chunk>();
    }
    const std::size_t bytes = chunks_.front().second;
    chunk = std::move(chunks_.front().first);
    chunks_.pop_front();
    Unbuffer(1, bytes);
    bytes_ -= std::min(bytes_, bytes);
    if (producer_paused_ && chunks_.size() < capacity_) {
      producer_paused_ = false;
      if (control_ != nullptr) {
        resume = control_;
      } else {
        resume_wanted_ = true;
      }
    }
  }
  gauges_->chunks.fetch_add(1);
  if (resume) resume->Resume();
  return chunk;
}

bool StreamChannel::finished() const {
  MutexLock lock(&mu_);
  return finished_;
}

void StreamChannel::Unbuffer(std::size_t chunks, std::size_t bytes) {
  gauges_->buffered_chunks.fetch_sub(static_cast<std::int64_t>(chunks));
  gauges_->buffered_bytes.fetch_sub(static_cast<std::int64_t>(bytes));
}

std::size_t StreamChannel::buffered_chunks() const {
  MutexLock lock(&mu_);
  return chunks_.size();
}

std::size_t StreamChannel::max_buffered_chunks() const {
  MutexLock lock(&mu_);
  return max_chunks_;
}

std::size_t StreamChannel::buffered_bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}

std::size_t StreamChannel::max_buffered_bytes() const {
  MutexLock lock(&mu_);
  return max_bytes_;
}

}  // namespace snakepit::internal
