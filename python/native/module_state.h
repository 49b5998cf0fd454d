// ModuleState: what snakepit_worker._native keeps for the code of its
// types, set up by the module's exec slot (module.cc) and cleared with the
// module.
#ifndef SNAKEPIT_PYTHON_NATIVE_MODULE_STATE_H_
#define SNAKEPIT_PYTHON_NATIVE_MODULE_STATE_H_

#include "native/py_ref.h"

namespace snakepit::native {

// Allocated, zeroed, by Python (PyModuleDef::m_size).
struct ModuleState {
  // The AttachmentBuffer type (attachment_buffer.h); a strong reference.
  PyObject* attachment_buffer_type;
};

// The state of the module that created `type`, one of its types (made with
// PyType_FromModuleAndSpec). REQUIRES: the GIL.
inline ModuleState& ModuleStateOf(PyTypeObject* type) {
  return *static_cast<ModuleState*>(PyType_GetModuleState(type));
}

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_MODULE_STATE_H_
