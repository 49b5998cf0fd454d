#include "native/attachment_buffer.h"

#include <new>
#include <utility>

namespace snakepit::native {
namespace {

struct AttachmentBufferObject {
  PyObject ob_base;
  std::string bytes;  // constructed in place by NewAttachmentBuffer; never resized
};

std::string& BytesOf(PyObject* self) { return reinterpret_cast<AttachmentBufferObject*>(self)->bytes; }

// The bytes, read-only. The buffer's memory never moves or changes while
// the object lives, and the view holds a reference to the object
// (view->obj), so there is nothing to do on release: no bf_releasebuffer.
int GetBuffer(PyObject* self, Py_buffer* view, int flags) {
  std::string& bytes = BytesOf(self);
  return PyBuffer_FillInfo(view, self, bytes.data(), static_cast<Py_ssize_t>(bytes.size()), /*readonly=*/1, flags);
}

Py_ssize_t Length(PyObject* self) { return static_cast<Py_ssize_t>(BytesOf(self).size()); }

void Dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  BytesOf(self).~basic_string();
  type->tp_free(self);
  Py_DECREF(type);  // a heap type: each instance holds a reference to it
}

PyType_Slot kSlots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(GetBuffer)},
    {Py_sq_length, reinterpret_cast<void*>(Length)},
    {Py_tp_dealloc, reinterpret_cast<void*>(Dealloc)},
    {Py_tp_doc, const_cast<char*>("A request attachment as the worker received it, owned by this object and "
                                  "exported read-only through the buffer protocol: memoryview(obj) and "
                                  "numpy.frombuffer(obj) see its bytes without a copy. Not created from Python.")},
    {0, nullptr}};

PyType_Spec kSpec = {
    .name = "snakepit_worker._native.AttachmentBuffer",
    .basicsize = sizeof(AttachmentBufferObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = kSlots,
};

}  // namespace

PyObject* CreateAttachmentBufferType(PyObject* module) { return PyType_FromModuleAndSpec(module, &kSpec, nullptr); }

PyRef NewAttachmentBuffer(PyTypeObject* type, std::string&& bytes) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return PyRef();
  new (&reinterpret_cast<AttachmentBufferObject*>(self)->bytes) std::string(std::move(bytes));
  return PyRef::Steal(self);
}

}  // namespace snakepit::native
