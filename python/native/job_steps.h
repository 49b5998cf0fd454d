// The steps of running one call or one stream on a handler thread, the same
// whichever front end the call came through (gRPC: ExecuteCall, StreamCall;
// shared memory: ShmExecuteCall, ShmStreamCall). Each front end supplies
// how it reads the request, sends messages and learns of cancels.
#ifndef SNAKEPIT_PYTHON_NATIVE_JOB_STEPS_H_
#define SNAKEPIT_PYTHON_NATIVE_JOB_STEPS_H_

#include <cstdint>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/functional/function_ref.h"
#include "native/call_counters.h"
#include "native/call_request.h"
#include "native/call_runner.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// Runs an Execute call: a Cancel that came before it ran (`cancel`: its
// deadline passed?) reaches Python first, so that the command does not
// run; then the command; `idle` as HandlerJob::Run says; then `reply`
// unless the call was finished (cancelled by a stop) before it was read.
// `held`, if given, receives the large result attachments
// (CallRunner::Execute) for `reply` to send.
void RunExecute(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle, std::uint64_t call_id,
                std::optional<bool> cancel, CallRequest& request, HeldAttachments* held,
                absl::FunctionRef<void(v1::ExecuteResponse&&)> reply);

// What a stream's front end provides to RunStream.
struct StreamSteps {
  std::uint64_t call_id;
  CallRequest& request;
  // A Cancel not passed on to Python yet (its deadline passed?), once.
  absl::FunctionRef<std::optional<bool>()> take_cancel;
  // Sends a chunk, with the attachments `held` holds after any it
  // carries; false when the stream is over (it cannot be sent).
  absl::FunctionRef<bool(v1::StreamMessage&&, const HeldAttachments& held)> write;
  // Sends the end: `end`, or with no message, `status`.
  absl::FunctionRef<void(const v1::StreamMessage* end, const grpc::Status& status)> end;
  // Whether `write` can send attachments from Python's buffers: if so,
  // a chunk's large attachments are held, not copied (held_attachments.h).
  bool hold_attachments = false;
};

// Runs a stream's command to its end: each chunk the command makes is
// written unless a Cancel came while it was made (then Python is told, and
// the next message is the end); a chunk that cannot be written closes the
// command. `idle` runs once the command is done, before the end is sent.
void RunStream(CallRunner& runner, CallCounters& counters, absl::FunctionRef<void()> idle, const StreamSteps& steps);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_JOB_STEPS_H_
