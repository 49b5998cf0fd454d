#include "native/py_convert.h"

namespace snakepit::native {

bool AsUtf8(PyObject* object, std::string* out) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(object, &size);
  if (data == nullptr) return false;
  out->assign(data, static_cast<std::size_t>(size));
  return true;
}

bool AsText(PyObject* object, std::string* out) {
  if (!PyUnicode_Check(object)) {
    PyErr_Format(PyExc_TypeError, "expected str, got %.200s", Py_TYPE(object)->tp_name);
    return false;
  }
  PyRef bytes = PyRef::Steal(PyUnicode_AsEncodedString(object, "utf-8", "backslashreplace"));
  if (!bytes) return false;
  out->assign(PyBytes_AS_STRING(bytes.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes.get())));
  return true;
}

bool AsInt64(PyObject* object, std::int64_t* out) {
  const long long value = PyLong_AsLongLong(object);
  if (value == -1 && PyErr_Occurred()) return false;
  *out = value;
  return true;
}

bool AsUint64(PyObject* object, std::uint64_t* out) {
  const unsigned long long value = PyLong_AsUnsignedLongLong(object);
  if (value == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return false;
  *out = value;
  return true;
}

PyRef FromUtf8(std::string_view text) {
  return PyRef::Steal(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "strict"));
}

std::string StrOrPlaceholder(PyObject* object) {
  std::string text;
  PyRef str = PyRef::Steal(PyObject_Str(object));
  if (!str || !AsText(str.get(), &text)) {
    PyErr_Clear();
    return "<str() failed>";
  }
  return text;
}

PyRef FetchException() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyRef::Steal(PyErr_GetRaisedException());
#else
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (value != nullptr && traceback != nullptr) PyException_SetTraceback(value, traceback);
  Py_XDECREF(type);
  Py_XDECREF(traceback);
  return PyRef::Steal(value);
#endif
}

std::string DescribeAndClear() {
  PyRef error = FetchException();
  if (!error) return "unknown error";
  return QualifiedName(reinterpret_cast<PyObject*>(Py_TYPE(error.get()))) + ": " + StrOrPlaceholder(error.get());
}

std::string QualifiedName(PyObject* type) {
  std::string module, qualname;
  PyRef module_attr = PyRef::Steal(PyObject_GetAttrString(type, "__module__"));
  PyRef qualname_attr = PyRef::Steal(PyObject_GetAttrString(type, "__qualname__"));
  if (!module_attr || !qualname_attr || !AsText(module_attr.get(), &module) ||
      !AsText(qualname_attr.get(), &qualname)) {
    PyErr_Clear();
    return reinterpret_cast<PyTypeObject*>(type)->tp_name;
  }
  return module == "builtins" ? qualname : module + "." + qualname;
}

}  // namespace snakepit::native
