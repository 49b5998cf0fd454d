// RAII for the Python C API: owned references and holding the GIL.
//
// "Holding the GIL" means having an attached thread state: on a
// free-threaded build there is no GIL, but the same calls attach and detach
// the thread, and Python objects may only be touched while attached.
#ifndef SNAKEPIT_PYTHON_NATIVE_PY_REF_H_
#define SNAKEPIT_PYTHON_NATIVE_PY_REF_H_

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <utility>

namespace snakepit::native {

// Sole owner of one strong reference (or of none).
// REQUIRES: created from a new reference, moved and destroyed with the GIL held.
class PyRef {
 public:
  PyRef() = default;
  // Takes over `object`, a new reference or null.
  static PyRef Steal(PyObject* object) {
    PyRef ref;
    ref.object_ = object;
    return ref;
  }
  // Adds a reference to `object` (borrowed, or null).
  static PyRef Borrow(PyObject* object) {
    Py_XINCREF(object);
    return Steal(object);
  }
  PyRef(PyRef&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  PyRef& operator=(PyRef&& other) noexcept {
    if (this != &other) {
      Py_XDECREF(object_);
      object_ = std::exchange(other.object_, nullptr);
    }
    return *this;
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() { Py_XDECREF(object_); }

  PyObject* get() const { return object_; }
  // Hands the reference to the caller.
  PyObject* release() { return std::exchange(object_, nullptr); }
  explicit operator bool() const { return object_ != nullptr; }

 private:
  PyObject* object_ = nullptr;
};

// Holds the GIL for its scope, from any thread, attaching the thread to the
// interpreter if it was not. Nests. REQUIRES: the interpreter is running.
class ScopedGil {
 public:
  ScopedGil() : state_(PyGILState_Ensure()) {}
  ~ScopedGil() { PyGILState_Release(state_); }
  ScopedGil(const ScopedGil&) = delete;
  ScopedGil& operator=(const ScopedGil&) = delete;

 private:
  PyGILState_STATE state_;
};

// Releases the GIL for its scope (blocking C++ code runs inside).
// REQUIRES: the GIL is held on entry.
class ScopedNoGil {
 public:
  ScopedNoGil() : state_(PyEval_SaveThread()) {}
  ~ScopedNoGil() { PyEval_RestoreThread(state_); }
  ScopedNoGil(const ScopedNoGil&) = delete;
  ScopedNoGil& operator=(const ScopedNoGil&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_PY_REF_H_
