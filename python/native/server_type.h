// The Python type snakepit_worker._native.Server: a WorkerServer with its
// PythonRunner, driven from native_server.py.
#ifndef SNAKEPIT_PYTHON_NATIVE_SERVER_TYPE_H_
#define SNAKEPIT_PYTHON_NATIVE_SERVER_TYPE_H_

#include "native/py_ref.h"

namespace snakepit::native {

// A new reference to the type, created for `module`; null with a Python
// error on failure.
PyObject* CreateServerType(PyObject* module);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_SERVER_TYPE_H_
