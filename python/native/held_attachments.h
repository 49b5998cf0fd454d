// HeldAttachments: a reply's attachments sent from the objects Python
// returned, without copying them into the protobuf reply first.
//
// The shared-memory front end sends attachments as frame sections
// (src/shm/shm_channel.h), copied from wherever they lie straight into the
// ring; a reply's attachments therefore need not become std::strings. This
// holds a buffer export of each (a `bytes` object, or a read-only view of
// a request's AttachmentBuffer, which a command may return as it is): the
// export keeps its object alive, so the bytes stay valid and unchanged
// while the reply is sent without the GIL; the exports are released
// afterwards, under the GIL.
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
      : buffers_(std::exchange(other.buffers_, {})), views_(std::exchange(other.views_, {})) {}
  HeldAttachments& operator=(HeldAttachments&& other) noexcept;
  HeldAttachments(const HeldAttachments&) = delete;
  HeldAttachments& operator=(const HeldAttachments&) = delete;
  ~HeldAttachments() { Release(); }

  // Holds `buffer`, an export of an unchanging buffer (PyObject_GetBuffer),
  // as the next attachment; it is released with the rest, and `buffer` is
  // left empty (releasing it does nothing). REQUIRES: the GIL.
  void Hold(Py_buffer&& buffer);
  // Releases every export. REQUIRES: the GIL.
  void ClearHoldingGil();

  // The attachments' bytes, in order; valid while this object lives.
  const std::vector<std::span<const std::byte>>& views() const { return views_; }

 private:
  void Release();  // takes the GIL if anything is held

  std::vector<Py_buffer> buffers_;  // exports, each released once
  std::vector<std::span<const std::byte>> views_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_HELD_ATTACHMENTS_H_
