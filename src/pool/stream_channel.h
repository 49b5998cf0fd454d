// StreamChannel: the chunks of one streaming call on their way from the
// worker's stream (the producer, pool/call_router.cc) to the application
// (a StreamReader, or a pair of callbacks).
//
// Reader form: holds at most `capacity` chunks. When a Push fills it, the
// producer is told to pause (Push returns false) and is resumed through
// its StreamControl once Next() makes room: memory stays bounded by
// capacity chunks, and gRPC flow control pauses the worker meanwhile.
// Callback form: each chunk is handed to the chunk callback on the
// producer's thread; the producer reads on once it returns. The end
// callback runs once, after the last chunk callback has returned, never
// at the same time as one.
//
// The end: Finish(status), exactly once wins. A stream that ended with
// CANCELLED or DEADLINE_EXCEEDED (its caller gave up) drops the chunks it
// still holds; any other end (OK, a worker's death, a Python error) lets
// the reader take them first. Chunks pushed after the end are dropped and
// counted: they never reach this or any other call.
//
// Cancel: RequestCancel() asks the router to cancel the call, through the
// stop token the router registered on (cancel_token()).
//
// Threading: thread-safe. Next() is for one consumer thread at a time.
#ifndef SNAKEPIT_SRC_POOL_STREAM_CHANNEL_H_
#define SNAKEPIT_SRC_POOL_STREAM_CHANNEL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "snakepit/call.h"
#include "worker/worker.h"

namespace snakepit::internal {

// A pool's stream figures, shared by its streams (which may outlive the
// pool: a reader kept after shutdown).
struct StreamGauges {
  std::atomic<std::int64_t> open{0};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> chunks{0};   // handed to a reader or callback
  std::atomic<std::uint64_t> dropped{0};  // arrived after their stream ended
  std::atomic<std::int64_t> buffered_chunks{0};
  std::atomic<std::int64_t> buffered_bytes{0};
};

class StreamChannel {
 public:
  using ChunkCallback = std::function<void(Chunk)>;
  using EndCallback = std::function<void(absl::Status)>;

  // Reader form, holding at most `capacity` (>= 1) chunks.
  StreamChannel(std::size_t capacity, std::shared_ptr<StreamGauges> gauges);
  // Callback form.
  StreamChannel(ChunkCallback on_chunk, EndCallback on_end, std::shared_ptr<StreamGauges> gauges);
  ~StreamChannel();
  StreamChannel(const StreamChannel&) = delete;
  StreamChannel& operator=(const StreamChannel&) = delete;

  // --- Producer side.
  // How to resume the worker's reading after a Push returned false (set
  // once the stream is sent; a resume wanted before is done then).
  void SetControl(std::shared_ptr<StreamControl> control);
  // The latest (wall clock) a consumer waits in Next(), a safety net
  // behind the router's deadline timer (which ends the stream first).
  void SetDeadline(absl::Time deadline);
  // One chunk. True: read the next at once; false: pause until resumed.
  bool Push(Chunk chunk);
  // The end (see above); later calls are ignored.
  void Finish(absl::Status status);

  // --- Consumer side.
  // The next chunk, nullopt at the end (OK), or the error that ended it.
  absl::StatusOr<std::optional<Chunk>> Next();
  // Asks for the call to be cancelled (stop on cancel_token()).
  void RequestCancel() { cancel_.request_stop(); }
  std::stop_token cancel_token() const { return cancel_.get_token(); }
  bool finished() const;

  std::size_t buffered_chunks() const;
  std::size_t max_buffered_chunks() const;
  std::size_t buffered_bytes() const;
  std::size_t max_buffered_bytes() const;

 private:
  // Takes the buffered chunks out of the books (at the end or one by one).
  void Unbuffer(std::size_t chunks, std::size_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeliverChunk(Chunk chunk);

  const std::size_t capacity_;  // 0: callback form
  ChunkCallback on_chunk_;
  EndCallback on_end_;
  const std::shared_ptr<StreamGauges> gauges_;
  std::stop_source cancel_;

  mutable Mutex mu_;
  std::deque<std::pair<Chunk, std::size_t>> chunks_ ABSL_GUARDED_BY(mu_);  // with its bytes
  std::size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t max_chunks_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t max_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::shared_ptr<StreamControl> control_ ABSL_GUARDED_BY(mu_);
  bool producer_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool resume_wanted_ ABSL_GUARDED_BY(mu_) = false;  // before SetControl
  // Callback form: a chunk callback is running; the end waits for it.
  bool delivering_ ABSL_GUARDED_BY(mu_) = false;
  bool end_pending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_STREAM_CHANNEL_H_
