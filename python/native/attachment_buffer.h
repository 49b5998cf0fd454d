// The Python type snakepit_worker._native.AttachmentBuffer: one request
// attachment, handed to Python without a copy.
//
// The object owns the std::string the transport received the attachment
// into (moved in, never copied) and exports its bytes, read-only, through
// the buffer protocol: `memoryview(obj)` and `numpy.frombuffer(obj)` see
// them in place. Python cannot create one (no constructor) and cannot
// write through it (a writable buffer request fails with BufferError).
//
// Lifetime: the bytes live as long as the object, and every memoryview
// (or NumPy array) made from it holds a reference to it, so a view stays
// valid after its call ended, for as long as anything references it. The
// object is freed by ordinary reference counting, with the GIL held.
// Threads may read it at once without a lock (free-threaded builds too):
// nothing changes the bytes after the object is made.
#ifndef SNAKEPIT_PYTHON_NATIVE_ATTACHMENT_BUFFER_H_
#define SNAKEPIT_PYTHON_NATIVE_ATTACHMENT_BUFFER_H_

#include <string>

#include "native/py_ref.h"

namespace snakepit::native {

// A new reference to the type, created for `module`; null with a Python
// error on failure. REQUIRES: the GIL.
PyObject* CreateAttachmentBufferType(PyObject* module);

// A new AttachmentBuffer of `type` (the type CreateAttachmentBufferType
// made) owning `bytes`, which is moved in: its characters are not copied
// (a short string's few bytes move with it, as std::string's do). Null with
// a Python error on failure, `bytes` then left alone. REQUIRES: the GIL.
PyRef NewAttachmentBuffer(PyTypeObject* type, std::string&& bytes);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_ATTACHMENT_BUFFER_H_
