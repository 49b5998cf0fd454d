#include "native/held_attachments.h"

#include "native/py_ref.h"

namespace snakepit::native {

HeldAttachments& HeldAttachments::operator=(HeldAttachments&& other) noexcept {
  if (this != &other) {
    Release();
    owners_ = std::exchange(other.owners_, {});
    buffers_ = std::exchange(other.buffers_, {});
    views_ = std::exchange(other.views_, {});
  }
  return *this;
}

void HeldAttachments::Hold(PyObject* bytes) {
  Py_INCREF(bytes);
  owners_.push_back(bytes);
  views_.emplace_back(reinterpret_cast<const std::byte*>(PyBytes_AS_STRING(bytes)),
                      static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
}

void HeldAttachments::Hold(Py_buffer&& buffer) {
  views_.emplace_back(static_cast<const std::byte*>(buffer.buf), static_cast<std::size_t>(buffer.len));
  buffers_.push_back(buffer);
  buffer = Py_buffer{};  // released by this object only
}

void HeldAttachments::ClearHoldingGil() {
  for (PyObject* owner : owners_) Py_DECREF(owner);
  for (Py_buffer& buffer : buffers_) PyBuffer_Release(&buffer);
  owners_.clear();
  buffers_.clear();
  views_.clear();
}

void HeldAttachments::Release() {
  if (owners_.empty() && buffers_.empty()) return;
  ScopedGil gil;
  ClearHoldingGil();
}

}  // namespace snakepit::native
