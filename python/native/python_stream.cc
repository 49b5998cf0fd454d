#include "native/python_stream.h"

namespace snakepit::native {

PythonStream::~PythonStream() {
  ScopedGil gil;
  run_ = PyRef();
}

bool PythonStream::Next(v1::StreamMessage& message, HeldAttachments* held) {
  ScopedGil gil;
  // run.next() -> (ended: bool, outcome: dispatch.Outcome)
  PyRef item = PyRef::Steal(PyObject_CallMethod(run_.get(), "next", nullptr));
  if (!item || !PyTuple_Check(item.get()) || PyTuple_GET_SIZE(item.get()) != 2) {
    if (item) PyErr_SetString(PyExc_TypeError, "StreamRun.next() must return (bool, Outcome)");
    Broken(message);
    return false;
  }
  const int ended = PyObject_IsTrue(PyTuple_GET_ITEM(item.get(), 0));
  PyObject* outcome = PyTuple_GET_ITEM(item.get(), 1);
  if (ended < 0) {
    Broken(message);
    return false;
  }
  if (ended) {
    v1::ExecuteResponse& end = *message.mutable_end();
    if (!reader_.Read(outcome, end)) {
      Broken(message);
      return false;
    }
    end.set_call_id(call_id_);
    return false;
  }
  if (!reader_.ReadResult(outcome, *message.mutable_chunk(), held)) {
    if (held != nullptr) held->ClearHoldingGil();
    Broken(message);
    return false;
  }
  return true;
}

void PythonStream::Close() {
  ScopedGil gil;
  PyRef done = PyRef::Steal(PyObject_CallMethod(run_.get(), "close", nullptr));
  if (!done) PyErr_WriteUnraisable(run_.get());
}

void PythonStream::Broken(v1::StreamMessage& message) {
  v1::ExecuteResponse& end = *message.mutable_end();
  ExceptionReply(end);  // clears the exception
  end.set_call_id(call_id_);
  PyRef done = PyRef::Steal(PyObject_CallMethod(run_.get(), "close", nullptr));
  if (!done) PyErr_WriteUnraisable(run_.get());
}

}  // namespace snakepit::native
