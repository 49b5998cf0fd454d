// snakepit_worker._native: the native worker transport (native_server.py).
// Multi-phase initialisation; on free-threaded builds the module declares
// that it does not need the GIL, so importing it keeps the GIL off.
#include "absl/synchronization/mutex.h"
#include "native/attachment_buffer.h"
#include "native/module_state.h"
#include "native/py_ref.h"
#include "native/server_type.h"

namespace snakepit::native {
namespace {

ModuleState& StateOf(PyObject* module) { return *static_cast<ModuleState*>(PyModule_GetState(module)); }

int ExecModule(PyObject* module) {
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a
  // debug aid that costs on each lock gRPC takes, a few percent of a call).
  // The worker process is ours: off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Before the Server type: a server's runner makes AttachmentBuffers.
  PyObject* attachment_type = CreateAttachmentBufferType(module);
  if (attachment_type == nullptr) return -1;
  StateOf(module).attachment_buffer_type = attachment_type;
  if (PyModule_AddObjectRef(module, "AttachmentBuffer", attachment_type) != 0) return -1;
  PyRef type = PyRef::Steal(CreateServerType(module));
  if (!type) return -1;
  return PyModule_AddObjectRef(module, "Server", type.get());
}

int TraverseModule(PyObject* module, visitproc visit, void* arg) {
  Py_VISIT(StateOf(module).attachment_buffer_type);
  return 0;
}

int ClearModule(PyObject* module) {
  Py_CLEAR(StateOf(module).attachment_buffer_type);
  return 0;
}

void FreeModule(void* module) { ClearModule(static_cast<PyObject*>(module)); }

PyModuleDef_Slot kSlots[] = {{Py_mod_exec, reinterpret_cast<void*>(ExecModule)},
#ifdef Py_mod_multiple_interpreters
                             {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
                             {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
                             {0, nullptr}};

PyModuleDef kModule = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "snakepit_worker._native",
    .m_doc = "The snakepit.v1.Worker service served by gRPC C++ inside the worker process.",
    .m_size = sizeof(ModuleState),
    .m_methods = nullptr,
    .m_slots = kSlots,
    .m_traverse = TraverseModule,
    .m_clear = ClearModule,
    .m_free = FreeModule,
};

}  // namespace
}  // namespace snakepit::native

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&snakepit::native::kModule); }
