// Turning a call into the worker's request, and the worker's answer into
// what the caller sees.
//
// Every error text starts with the worker's label and the command, so an
// operator reading one line knows where it came from.
#ifndef SNAKEPIT_SRC_WORKER_REPLY_CODEC_H_
#define SNAKEPIT_SRC_WORKER_REPLY_CODEC_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"
#include "snakepit/call.h"
#include "snakepit/v1/worker.pb.h"
#include "worker/worker.h"

namespace snakepit::internal {

// Fills `request` from `call`, moving its payload.
void EncodeRequest(WorkerCall& call, snakepit::v1::ExecuteRequest& request);

// One chunk of a stream; INTERNAL if its JSON is invalid. The attachments
// are moved out of `chunk`, not copied.
absl::StatusOr<Chunk> DecodeChunk(snakepit::v1::Result& chunk, absl::string_view label, absl::string_view command);

// A successful RPC: the Python result, or the Python-side error mapped to a
// canonical code (UNKNOWN_COMMAND -> NOT_FOUND, INVALID_ARGS ->
// INVALID_ARGUMENT, EXCEPTION -> UNKNOWN with a PythonError payload,
// NOT_SERIALIZABLE -> INTERNAL, BUSY -> RESOURCE_EXHAUSTED, CANCELLED ->
// CANCELLED, STREAM_REQUIRED -> FAILED_PRECONDITION). The result's
// attachments are moved out of `response`, not copied.
absl::StatusOr<Reply> DecodeResponse(snakepit::v1::ExecuteResponse& response, absl::string_view label,
                                     absl::string_view command);

// A failed RPC. `abort_reason` (why the worker is known dead, may be empty)
// turns cancellations and transport errors into UNAVAILABLE naming it.
absl::Status FromRpcStatus(const grpc::Status& status, absl::string_view label, absl::string_view command,
                           absl::string_view abort_reason, std::int64_t max_message_bytes);

// Attaches `error` to `status` as the payload GetPythonError() reads.
void SetPythonError(absl::Status& status, const PythonError& error);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REPLY_CODEC_H_
