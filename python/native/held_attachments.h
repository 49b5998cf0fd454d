// HeldAttachments: a reply's attachments sent from the bytes objects
// Python returned, without copying them into the protobuf reply first.
//
// The shared-memory front end sends attachments as frame sections
// (src/shm/shm_channel.h), copied from wherever they lie straight into the
// ring; a reply's attachments therefore need not become std::strings. This
// holds a strong reference to each bytes object, so its buffer stays
// valid and unchanged (bytes are immutable) while the reply is sent
// without the GIL; the references are dropped afterwards, under the GIL.
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
      : owners_(std::exchange(other.owners_, {})), views_(std::exchange(other.views_, {})) {}
  HeldAttachments& operator=(HeldAttachments&& other) noexcept;
  HeldAttachments(const HeldAttachments&) = delete;
  HeldAttachments& operator=(const HeldAttachments&) = delete;
  ~HeldAttachments() { Release(); }

  // Holds `bytes`, a bytes object, as the next attachment.
  // REQUIRES: the GIL.
  void Hold(PyObject* bytes);
  // Drops every reference. REQUIRES: the GIL.
  void ClearHoldingGil();

  // The attachments' bytes, in order; valid while this object lives.
  const std::vector<std::span<const std::byte>>& views() const { return views_; }

 private:
  void Release();  // takes the GIL if anything is held

  std::vector<PyObject*> owners_;  // strong references
  std::vector<std::span<const std::byte>> views_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_HELD_ATTACHMENTS_H_
