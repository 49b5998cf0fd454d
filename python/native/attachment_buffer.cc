#include "native/attachment_buffer.h"

#include <cstring>
#include <new>
#include <utility>

#include "shm/fresh_buffer.h"

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

// bytes(obj): a copy into a new bytes object, advised for huge pages
// before it is written (fresh_buffer.h: on the 2-vCPU VM, Python's own
// copy of a 16 MiB attachment spent 45-60 ms faulting its pages in). The
// copy runs without the GIL: neither object is reachable by other threads'
// writes (this one never changes, the new one is not shared yet).
PyObject* ToBytes(PyObject* self, PyObject* /*unused*/) {
  const std::string& bytes = BytesOf(self);
  PyObject* copy = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(bytes.size()));
  if (copy == nullptr) return nullptr;
  char* target = PyBytes_AS_STRING(copy);
  Py_BEGIN_ALLOW_THREADS;
  internal::AdviseHugePages(target, bytes.size());
  std::memcpy(target, bytes.data(), bytes.size());
  Py_END_ALLOW_THREADS;
  return copy;
}

PyMethodDef kMethods[] = {{"__bytes__", ToBytes, METH_NOARGS, "A copy of the bytes, as a bytes object."},
                          {nullptr, nullptr, 0, nullptr}};

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
    {Py_tp_methods, kMethods},
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
