#include "native/held_attachments.h"

#include "native/py_ref.h"

namespace snakepit::native {

HeldAttachments& HeldAttachments::operator=(HeldAttachments&& other) noexcept {
  if (this != &other) {
    Release();
    buffers_ = std::exchange(other.buffers_, {});
    views_ = std::exchange(other.views_, {});
  }
  return *this;
}

void HeldAttachments::Hold(Py_buffer&& buffer) {
  views_.emplace_back(static_cast<const std::byte*>(buffer.buf), static_cast<std::size_t>(buffer.len));
  buffers_.push_back(buffer);
  buffer = Py_buffer{};  // released by this object only
}

void HeldAttachments::ClearHoldingGil() {
  for (Py_buffer& buffer : buffers_) PyBuffer_Release(&buffer);
  buffers_.clear();
  views_.clear();
}

void HeldAttachments::Release() {
  if (buffers_.empty()) return;
  ScopedGil gil;
  ClearHoldingGil();
}

}  // namespace snakepit::native
