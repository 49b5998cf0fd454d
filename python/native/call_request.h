// CallRequest: the request of one call as a handler thread reads it, the
// same for every front end (a gRPC Execute or ExecuteStream, or a message
// from the shared-memory data plane).
//
// The attachments are not read but taken: TakeAttachments moves their
// strings out of the request, so that Python gets the very buffers the
// transport received them into (attachment_buffer.h), never a copy.
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

class CallRequest {
 public:
  using Attachments = google::protobuf::RepeatedPtrField<std::string>;

  // Runs `read` on the request unless the call is finished (cancelled by a
  // stop); returns whether it ran. The call stays unfinished while `read`
  // runs. What `read` sees of the attachments is unspecified (a front end
  // may keep them apart from the request, and they are gone once taken):
  // use TakeAttachments.
  virtual bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) = 0;

  // Moves the request's attachments, in order, out to the caller: the
  // first call gets them all, any later call none. Thread-safe, but meant
  // for the one handler thread that runs the call, after a Read that ran;
  // nothing else reads them.
  virtual Attachments TakeAttachments() = 0;

 protected:
  ~CallRequest() = default;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_
