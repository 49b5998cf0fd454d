// CallRequest: the request of one call as a handler thread reads it, the
// same for every front end (a gRPC Execute or ExecuteStream, or a message
// from the shared-memory data plane).
#ifndef SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_
#define SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_

#include "absl/functional/function_ref.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

class CallRequest {
 public:
  // Runs `read` on the request unless the call is finished (cancelled by a
  // stop); returns whether it ran. The call stays unfinished while `read`
  // runs.
  virtual bool Read(absl::FunctionRef<void(const v1::ExecuteRequest&)> read) = 0;

 protected:
  ~CallRequest() = default;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_CALL_REQUEST_H_
