// HeldAttachments: a reply's attachments sent from the objects Python
// returned, without copying them into the protobuf reply first.
//
// The shared-memory front end sends attachments as frame sections
// (src/shm/shm_channel.h), copied from wherever they lie straight into the
// ring; a reply's attachments therefore need not become std::strings. This
// holds a strong reference to each `bytes` object, or a buffer export of
// each read-only view (a memoryview of a request's AttachmentBuffer, which
// a command may return as it is), so its bytes stay valid and unchanged
// while the reply is sent without the GIL; the references and exports are
// dropped afterwards, under the GIL.
//
// Ownership and threading: filled under the GIL (Hold), read without it
// (views), destroyed on any thread attached to the interpreter: the
// destructor takes the GIL, and only when it holds something. Movable, not
// copyable.
#ifndef SNAKEPIT_PYTHON_NATIVE_HELD_ATTACHMENTS_H_
#define SNAKEPIT_PYTHON_NATIVE_HELD_ATTACHMENTS_H_

#include <Python.h>

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace snakepit::native {

class HeldAttachments {
 public:
  HeldAttachments() = default;
  HeldAttachments(HeldAttachments&& other) noexcept
      : owners_(std::exchange(other.owners_, {})),
        buffers_(std::exchange(other.buffers_, {})),
        views_(std::exchange(other.views_, {})) {}
  HeldAttachments& operator=(HeldAttachments&& other) noexcept;
  HeldAttachments(const HeldAttachments&) = delete;
  HeldAttachments& operator=(const HeldAttachments&) = delete;
  ~HeldAttachments() { Release(); }

  // Holds `bytes`, a bytes object, as the next attachment.
  // REQUIRES: the GIL.
  void Hold(PyObject* bytes);
  // Holds `buffer`, an export of a read-only buffer (PyObject_GetBuffer),
  // as the next attachment; it is released with the rest.
  // REQUIRES: the GIL.
  void Hold(Py_buffer&& buffer);
  // Drops every reference. REQUIRES: the GIL.
  void ClearHoldingGil();

  // The attachments' bytes, in order; valid while this object lives.
  const std::vector<std::span<const std::byte>>& views() const { return views_; }

 private:
  void Release();  // takes the GIL if anything is held

  std::vector<PyObject*> owners_;   // strong references
  std::vector<Py_buffer> buffers_;  // exports, each released once
  std::vector<std::span<const std::byte>> views_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_HELD_ATTACHMENTS_H_
