// Reading what WorkerCalls returns into ExecuteResponse messages: a
// dispatch.Outcome's attributes, or a Python exception raised in the glue.
// REQUIRES: the GIL, for everything here.
#ifndef SNAKEPIT_PYTHON_NATIVE_OUTCOME_H_
#define SNAKEPIT_PYTHON_NATIVE_OUTCOME_H_

#include <cstddef>

#include "native/held_attachments.h"
#include "native/py_ref.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

class OutcomeReader {
 public:
  // Interns the attribute names; false with a Python error on failure.
  bool Init();

  // Sets `reply`'s timing and its result or error from `outcome` (a
  // dispatch.Outcome). False with a Python error set when an attribute is
  // missing or of the wrong type; `reply` (and `held`) are then partly
  // filled. With `held`, attachments of kHoldMin bytes or more in all are
  // held there instead of copied into the result (held_attachments.h).
  bool Read(PyObject* outcome, v1::ExecuteResponse& reply, HeldAttachments* held = nullptr) const;

  // Sets `result` from `outcome`'s json and attachments (a stream's
  // chunk, or a result), holding them in `held` as Read does. False with
  // a Python error set on a bad attribute.
  bool ReadResult(PyObject* outcome, v1::Result& result, HeldAttachments* held = nullptr) const;

  // Below this many attachment bytes in a reply, copying them is cheaper
  // than holding them (which takes the GIL once more to let go).
  static constexpr std::size_t kHoldMin = std::size_t{64} << 10;

 private:
  bool ReadError(PyObject* error, v1::Error& out) const;

  PyRef started_ns_, finished_ns_, thread_id_, cpu_ns_, error_, json_, attachments_;
  PyRef kind_, type_, message_, traceback_;
};

// Replaces `reply`'s contents by an EXCEPTION error that describes the
// current Python exception (type, message, formatted traceback), and
// clears it. Timing: now, on this thread, no CPU. Never fails.
void ExceptionReply(v1::ExecuteResponse& reply);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_OUTCOME_H_
