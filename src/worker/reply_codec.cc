#include "worker/reply_codec.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace snakepit {
namespace {
constexpr absl::string_view kPythonErrorUrl = "type.snakepit.dev/python-exception";
}  // namespace

std::optional<PythonError> GetPythonError(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPythonErrorUrl);
  if (!payload) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(std::string(*payload), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  PythonError error;
  error.type = j.value("type", "");
  error.message = j.value("message", "");
  error.traceback = j.value("traceback", "");
  return error;
}

namespace internal {

void SetPythonError(absl::Status& status, const PythonError& error) {
  nlohmann::json j = {{"type", error.type}, {"message", error.message}, {"traceback", error.traceback}};
  // The texts came from Python as valid UTF-8 protobuf strings; replace
  // rather than throw if that ever fails to hold.
  status.SetPayload(kPythonErrorUrl, absl::Cord(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

void EncodeRequest(WorkerCall& call, snakepit::v1::ExecuteRequest& request) {
  request.set_command(call.command);
  request.set_args_json(std::move(call.args_json));
  for (std::string& a : call.attachments) request.add_attachments(std::move(a));
  request.set_call_id(call.call_id);
  if (call.deadline != absl::InfiniteFuture()) request.set_deadline_unix_ms(absl::ToUnixMillis(call.deadline));
  for (auto& [key, value] : call.metadata) (*request.mutable_metadata())[key] = value;
}

absl::StatusOr<Chunk> DecodeChunk(snakepit::v1::Result& chunk, absl::string_view label, absl::string_view command) {
  Chunk out;
  out.data = nlohmann::json::parse(chunk.json(), nullptr, /*allow_exceptions=*/false);
  if (out.data.is_discarded()) {
    return absl::InternalError(absl::StrCat(label, ": command '", command, "': worker sent a chunk of invalid JSON"));
  }
  out.attachments.assign(std::make_move_iterator(chunk.mutable_attachments()->begin()),
                         std::make_move_iterator(chunk.mutable_attachments()->end()));
  return out;
}

absl::StatusOr<Reply> DecodeResponse(snakepit::v1::ExecuteResponse& response, absl::string_view label,
                                     absl::string_view command) {
  if (response.has_error()) {
    const snakepit::v1::Error& e = response.error();
    const std::string where = absl::StrCat(label, ": command '", command, "': ");
    switch (e.kind()) {
      case snakepit::v1::Error::UNKNOWN_COMMAND:
        return absl::NotFoundError(absl::StrCat(where, e.message()));
      case snakepit::v1::Error::INVALID_ARGS:
        return absl::InvalidArgumentError(absl::StrCat(where, e.message()));
      case snakepit::v1::Error::NOT_SERIALIZABLE:
        return absl::InternalError(absl::StrCat(where, e.message()));
      case snakepit::v1::Error::BUSY:
        return absl::ResourceExhaustedError(absl::StrCat(where, e.message()));
      case snakepit::v1::Error::CANCELLED:
        return absl::CancelledError(absl::StrCat(where, "cancelled: ", e.message()));
      case snakepit::v1::Error::STREAM_REQUIRED:
        // The worker's message says to call it with execute_stream.
        return absl::FailedPreconditionError(absl::StrCat(where, e.message()));
      default: {
        absl::Status status(absl::StatusCode::kUnknown, absl::StrCat(where, e.type(), ": ", e.message(),
                                                                     e.traceback().empty() ? "" : "\n", e.traceback()));
        SetPythonError(status, PythonError{e.type(), e.message(), e.traceback()});
        return status;
      }
    }
  }
  if (!response.has_result()) {
    return absl::InternalError(absl::StrCat(label, ": command '", command, "': worker sent neither result nor error"));
  }
  Reply reply;
  reply.result = nlohmann::json::parse(response.result().json(), nullptr, /*allow_exceptions=*/false);
  if (reply.result.is_discarded()) {
    return absl::InternalError(absl::StrCat(label, ": command '", command, "': worker returned invalid JSON"));
  }
  auto& attachments = *response.mutable_result()->mutable_attachments();
  reply.attachments.assign(std::make_move_iterator(attachments.begin()), std::make_move_iterator(attachments.end()));
  if (response.has_timing()) {
    const snakepit::v1::Timing& t = response.timing();
    reply.python_time = std::chrono::nanoseconds(std::max<std::int64_t>(0, t.finished_unix_ns() - t.started_unix_ns()));
    reply.python_cpu_time = std::chrono::nanoseconds(std::max<std::int64_t>(0, t.cpu_ns()));
  }
  return reply;
}

absl::Status FromRpcStatus(const grpc::Status& status, absl::string_view label, absl::string_view command,
                           absl::string_view abort_reason, std::int64_t max_message_bytes) {
  const std::string where = absl::StrCat(label, ": command '", command, "': ");
  if (!abort_reason.empty()) {
    return absl::UnavailableError(absl::StrCat(where, "worker died during the call (", abort_reason, ")"));
  }
  switch (status.error_code()) {
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(absl::StrCat(where, "message over the ", max_message_bytes,
                                                       "-byte limit (max_message_mb): ", status.error_message()));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat(where, "worker did not reply in time"));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      return absl::UnavailableError(
          absl::StrCat(where, "worker became unavailable during the call: ", status.error_message()));
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(where, "RPC failed: ", status.error_message()));
  }
}

}  // namespace internal
}  // namespace snakepit
