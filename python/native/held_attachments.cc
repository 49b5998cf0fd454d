#include "native/held_attachments.h"

#include "native/py_ref.h"

namespace snakepit::native {

HeldAttachments& HeldAttachments::operator=(HeldAttachments&& other) noexcept {
  if (this != &other) {
    Release();
    owners_ = std::exchange(other.owners_, {});
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

void HeldAttachments::ClearHoldingGil() {
  for (PyObject* owner : owners_) Py_DECREF(owner);
  owners_.clear();
  views_.clear();
}

void HeldAttachments::Release() {
  if (owners_.empty()) return;
  ScopedGil gil;
  ClearHoldingGil();
}

}  // namespace snakepit::native
