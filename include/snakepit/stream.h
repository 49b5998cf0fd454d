// StreamReader: the chunks of one streaming call (PoolManager::execute_stream),
// read one at a time.
//
//   snakepit::StreamReader reader = pools->execute_stream("llm", "generate", {{"prompt", p}});
//   while (true) {
//     absl::StatusOr<std::optional<snakepit::Chunk>> next = reader.Next();
//     if (!next.ok()) { /* the stream failed: next.status() */ break; }
//     if (!next->has_value()) break;  // the end: the command finished
//     Use((*next)->data);
//     if (enough) { reader.Cancel(); break; }
//   }
//
// Backpressure: the host holds at most `stream_buffer` chunks the reader
// has not taken (CallOptions::stream_buffer, else the pool's). When that
// many wait, the host stops reading from the worker, and gRPC flow control
// pauses the generator at its next yield until Next() makes room.
//
// Threading: one thread reads at a time (Next is not for concurrent use);
// Cancel() and the figures may be called from any thread.
// Lifetime: move-only. Destroying a reader whose stream has not ended
// cancels the call. A reader may outlive its PoolManager: the stream then
// has ended (shut down) and Next() returns its status.
#ifndef SNAKEPIT_STREAM_H_
#define SNAKEPIT_STREAM_H_

#include <cstddef>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "snakepit/call.h"
#include "snakepit/export.h"

namespace snakepit {
namespace internal {
class StreamChannel;
}  // namespace internal

class SNAKEPIT_EXPORT StreamReader {
 public:
  // A reader of nothing: Next() returns FAILED_PRECONDITION.
  StreamReader() = default;
  ~StreamReader();  // cancels an unfinished stream
  StreamReader(StreamReader&&) noexcept = default;
  StreamReader& operator=(StreamReader&& other) noexcept;
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // Blocks until the next chunk (a value), the end (nullopt: the command
  // finished; every chunk it yielded was returned before), or the error
  // that ended the stream: CANCELLED, DEADLINE_EXCEEDED (the call's
  // deadline bounds every wait), UNAVAILABLE (the worker died: the chunks
  // it sent before came first), a Python exception (UNKNOWN), ... After the
  // end or an error, every later Next() returns the same again.
  [[nodiscard]] absl::StatusOr<std::optional<Chunk>> Next();

  // Cancels the call: the next Next() returns CANCELLED and no chunk after
  // it; chunks not yet read are dropped. The worker is told (see
  // CallOptions::stop_token). No-op once the stream has ended.
  void Cancel();

  // Chunks waiting in the host's buffer now, and the most that ever
  // waited (never above the stream's buffer bound); their JSON and
  // attachment bytes likewise.
  std::size_t buffered_chunks() const;
  std::size_t max_buffered_chunks() const;
  std::size_t buffered_bytes() const;
  std::size_t max_buffered_bytes() const;

 private:
  friend class PoolManager;
  SNAKEPIT_NO_EXPORT explicit StreamReader(std::shared_ptr<internal::StreamChannel> channel);

  std::shared_ptr<internal::StreamChannel> channel_;
};

}  // namespace snakepit

#endif  // SNAKEPIT_STREAM_H_
