#include "native/server_type.h"

#include <cmath>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "native/module_state.h"
#include "native/python_runner.h"
#include "native/worker_server.h"

namespace snakepit::native {
namespace {

// What a Server object owns. The server uses the runner; when the server
// cannot be shown to be stopped (a handler thread may still be running a
// call), both are leaked on purpose rather than freed under that thread.
struct State {
  ServerOptions options;
  std::unique_ptr<PythonRunner> runner;
  std::unique_ptr<WorkerServer> server;
};

struct ServerObject {
  PyObject ob_base;
  State* state;
};

State& StateOf(PyObject* self) { return *reinterpret_cast<ServerObject*>(self)->state; }

// Seconds from Python (negative: 0) as a deadline from now, at most a day away.
absl::Time DeadlineIn(double seconds) {
  if (!(seconds > 0)) return absl::Now();
  return absl::Now() + absl::Seconds(std::fmin(seconds, 86400.0));
}

bool OptionalText(PyObject* object, const char* name, std::string* out) {
  if (object == nullptr || object == Py_None) return true;
  Py_ssize_t size = 0;
  const char* data = PyUnicode_Check(object) ? PyUnicode_AsUTF8AndSize(object, &size) : nullptr;
  if (data == nullptr) {
    if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s must be a str or None", name);
    return false;
  }
  out->assign(data, static_cast<std::size_t>(size));
  return true;
}

PyObject* ServerNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {
      "listen",     "handler_threads", "max_message_bytes", "execute", "execute_stream", "cancel", "stats",
      "auth_token", "tls_cert_file",   "tls_key_file",      "shm_fd",  "shm_ring_bytes", nullptr};
  const char* listen = nullptr;
  int handler_threads = 0, max_message_bytes = 0;
  PyObject *execute = nullptr, *execute_stream = nullptr, *cancel = nullptr, *stats = nullptr;
  PyObject *token = nullptr, *cert = nullptr, *key = nullptr;
  int shm_fd = -1;
  Py_ssize_t shm_ring_bytes = 0;
  // Every argument is keyword-only ("|$"); the required ones are checked below.
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$siiOOOOOOOin:Server", const_cast<char**>(keywords), &listen,
                                   &handler_threads, &max_message_bytes, &execute, &execute_stream, &cancel, &stats,
                                   &token, &cert, &key, &shm_fd, &shm_ring_bytes)) {
    return nullptr;
  }
  if (listen == nullptr || execute == nullptr || execute_stream == nullptr || cancel == nullptr || stats == nullptr) {
    PyErr_SetString(PyExc_TypeError, "Server() needs listen, execute, execute_stream, cancel and stats");
    return nullptr;
  }
  auto state = std::make_unique<State>();
  state->options.listen = listen;
  state->options.handler_threads = handler_threads;
  state->options.max_message_bytes = max_message_bytes;
  if (shm_fd >= 0 && shm_ring_bytes <= 0) {
    PyErr_SetString(PyExc_ValueError, "shm_fd needs shm_ring_bytes");
    return nullptr;
  }
  state->options.shm_fd = shm_fd;
  state->options.shm_ring_bytes = static_cast<std::size_t>(shm_ring_bytes);
  if (!OptionalText(token, "auth_token", &state->options.auth_token) ||
      !OptionalText(cert, "tls_cert_file", &state->options.tls_cert_file) ||
      !OptionalText(key, "tls_key_file", &state->options.tls_key_file)) {
    return nullptr;
  }
  state->runner =
      PythonRunner::Create(execute, execute_stream, cancel, stats, ModuleStateOf(type).attachment_buffer_type);
  if (state->runner == nullptr) return nullptr;
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  reinterpret_cast<ServerObject*>(self)->state = state.release();
  return self;
}

void ServerDealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  State* state = reinterpret_cast<ServerObject*>(self)->state;
  if (state != nullptr) {
    if (state->server != nullptr && !state->server->Stopped()) {
      (void)state->server.release();  // leaked with the runner: see State
      (void)state->runner.release();
    }
    delete state;
  }
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* SetErrorFromStatus(const absl::Status& status) {
  PyObject* kind = PyExc_RuntimeError;
  if (absl::IsInvalidArgument(status)) kind = PyExc_ValueError;
  if (absl::IsNotFound(status)) kind = PyExc_FileNotFoundError;
  if (absl::IsPermissionDenied(status)) kind = PyExc_PermissionError;
  PyErr_SetString(kind, std::string(status.message()).c_str());
  return nullptr;
}

PyObject* ServerStart(PyObject* self, PyObject* /*unused*/) {
  State& state = StateOf(self);
  if (state.server != nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "the server was started already");
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<WorkerServer>> server;
  {
    ScopedNoGil no_gil;
    server = WorkerServer::Start(state.options, *state.runner);
  }
  if (!server.ok()) return SetErrorFromStatus(server.status());
  state.server = *std::move(server);
  return PyUnicode_FromStringAndSize(state.server->listen().data(),
                                     static_cast<Py_ssize_t>(state.server->listen().size()));
}

WorkerServer* Started(PyObject* self) {
  WorkerServer* server = StateOf(self).server.get();
  if (server == nullptr) PyErr_SetString(PyExc_RuntimeError, "the server was not started");
  return server;
}

PyObject* ServerStopAccepting(PyObject* self, PyObject* /*unused*/) {
  WorkerServer* server = Started(self);
  if (server == nullptr) return nullptr;
  server->StopAccepting();
  Py_RETURN_NONE;
}

// drain(timeout) and close(timeout): wait without the GIL, return a bool.
template <bool (WorkerServer::*kWait)(absl::Time)>
PyObject* ServerWait(PyObject* self, PyObject* arg) {
  WorkerServer* server = Started(self);
  if (server == nullptr) return nullptr;
  const double seconds = PyFloat_AsDouble(arg);
  if (seconds == -1.0 && PyErr_Occurred()) return nullptr;
  bool done = false;
  {
    ScopedNoGil no_gil;
    done = (server->*kWait)(DeadlineIn(seconds));
  }
  return PyBool_FromLong(done);
}

// data_plane() -> (str, str): ("shm", "") or ("grpc", why the offered
// shared memory is not used, "" if none was offered).
PyObject* ServerDataPlane(PyObject* self, PyObject* /*unused*/) {
  WorkerServer* server = Started(self);
  if (server == nullptr) return nullptr;
  const std::string& error = server->data_plane_error();
  return Py_BuildValue("(ss#)", server->shm_active() ? "shm" : "grpc", error.data(),
                       static_cast<Py_ssize_t>(error.size()));
}

PyMethodDef kServerMethods[] = {
    {"start", ServerStart, METH_NOARGS,
     "start() -> str: binds and serves; returns the address listened on (a TCP port 0 replaced by the "
     "bound port). RuntimeError if the address cannot be bound."},
    {"data_plane", ServerDataPlane, METH_NOARGS,
     "data_plane() -> (str, str): (\"shm\", \"\") when calls also come over the shared memory passed as "
     "shm_fd, else (\"grpc\", why not; empty if none was passed)."},
    {"stop_accepting", ServerStopAccepting, METH_NOARGS,
     "stop_accepting(): Health answers STOPPING and new Execute calls UNAVAILABLE from now on."},
    {"drain", ServerWait<&WorkerServer::Drain>, METH_O,
     "drain(timeout: float) -> bool: waits until every Execute call received was answered; True if all were."},
    {"close", ServerWait<&WorkerServer::Close>, METH_O,
     "close(timeout: float) -> bool: cancels the calls still running and shuts the server down; True if "
     "that finished in time."},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot kServerSlots[] = {
    {Py_tp_new, reinterpret_cast<void*>(ServerNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(ServerDealloc)},
    {Py_tp_methods, kServerMethods},
    {Py_tp_doc,
     const_cast<char*>("Server(*, listen, handler_threads, max_message_bytes, execute, execute_stream, "
                       "cancel, stats, "
                       "auth_token=None, tls_cert_file=None, tls_key_file=None, shm_fd=-1, shm_ring_bytes=0): "
                       "the snakepit.v1.Worker "
                       "service in gRPC C++; see native_server.py.")},
    {0, nullptr}};

PyType_Spec kServerSpec = {
    .name = "snakepit_worker._native.Server",
    .basicsize = sizeof(ServerObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = kServerSlots,
};

}  // namespace

PyObject* CreateServerType(PyObject* module) { return PyType_FromModuleAndSpec(module, &kServerSpec, nullptr); }

}  // namespace snakepit::native
