#include "native/job_steps.h"

#include <memory>
#include <utility>

namespace snakepit::native {

void RunExecute(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle, std::uint64_t call_id,
                std::optional<bool> cancel, CallRequest& request, HeldAttachments* held,
                absl::FunctionRef<void(v1::ExecuteResponse&&)> reply) {
  // The Canceller may not have told Python yet.
  if (cancel.has_value()) runner.Cancel(call_id, *cancel);
  v1::ExecuteResponse response;
  counters.Started();
  const bool answer = runner.Execute(request, response, held);
  counters.Finished(answer, answer && response.has_error());
  idle();
  if (answer) reply(std::move(response));
}

void RunStream(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle, const StreamSteps& steps) {
  // Cancelled before it started: Python hears of it first, so that the
  // command does not run (as RunExecute).
  if (const std::optional<bool> deadline_exceeded = steps.take_cancel()) {
    runner.Cancel(steps.call_id, *deadline_exceeded);
  }
  counters.Started();
  std::unique_ptr<ChunkSource> source = runner.OpenStream(steps.request);
  if (source == nullptr) {
    counters.Finished(/*answered=*/false, /*failed=*/false);
    idle();
    steps.end(nullptr, grpc::Status(grpc::StatusCode::CANCELLED, "the stream ended before its command started"));
    return;
  }
  v1::StreamMessage message;
  HeldAttachments held;
  HeldAttachments* const hold = steps.hold_attachments ? &held : nullptr;
  bool chunk = source->Next(message, hold);
  while (chunk) {
    if (const std::optional<bool> deadline_exceeded = steps.take_cancel()) {
      // Cancelled while the chunk was made: it is not sent, and the next
      // message is the end (the generator closed).
      runner.Cancel(steps.call_id, *deadline_exceeded);
    } else if (!steps.write(std::move(message), held)) {
      break;
    }
    message.Clear();
    held = HeldAttachments();  // lets the sent chunk's buffers go
    chunk = source->Next(message, hold);
  }
  if (chunk) source->Close();  // a chunk could not be sent: the stream is over
  source.reset();
  counters.Finished(/*answered=*/true, /*failed=*/chunk || message.end().has_error());
  idle();
  if (chunk) {
    steps.end(nullptr, grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled before its end was sent"));
  } else {
    steps.end(&message, grpc::Status::OK);
  }
}

}  // namespace snakepit::native
