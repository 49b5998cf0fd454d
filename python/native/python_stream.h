// PythonStream: the native server's ChunkSource, over a streams.StreamRun
// (or streams.EndedStream) that WorkerCalls.execute_stream returned.
// Python objects are touched with the GIL taken here, and only here.
#ifndef SNAKEPIT_PYTHON_NATIVE_PYTHON_STREAM_H_
#define SNAKEPIT_PYTHON_NATIVE_PYTHON_STREAM_H_

#include <cstdint>
#include <utility>

#include "native/call_runner.h"
#include "native/outcome.h"
#include "native/py_ref.h"

namespace snakepit::native {

class PythonStream final : public ChunkSource {
 public:
  // Takes over `run` (REQUIRES: the GIL). `reader` must outlive the stream.
  PythonStream(PyRef run, std::uint64_t call_id, const OutcomeReader& reader)
      : run_(std::move(run)), call_id_(call_id), reader_(reader) {}
  // Takes the GIL to let go of the run.
  ~PythonStream() override;
  PythonStream(const PythonStream&) = delete;
  PythonStream& operator=(const PythonStream&) = delete;

  bool Next(v1::StreamMessage& message, HeldAttachments* held) override;
  void Close() override;

 private:
  // `message` becomes the end describing the current Python exception,
  // and the run is closed. REQUIRES: the GIL.
  void Broken(v1::StreamMessage& message);

  PyRef run_;
  const std::uint64_t call_id_;
  const OutcomeReader& reader_;
};

// A stream that ends at once with `end` (its command could not be opened).
class EndedSource final : public ChunkSource {
 public:
  explicit EndedSource(v1::StreamMessage end) : end_(std::move(end)) {}
  bool Next(v1::StreamMessage& message, HeldAttachments* /*held*/) override {
    message = std::move(end_);
    return false;
  }
  void Close() override {}

 private:
  v1::StreamMessage end_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_PYTHON_STREAM_H_
