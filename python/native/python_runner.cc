#include "native/python_runner.h"

#include <array>
#include <cstdint>
#include <string>

#include "native/py_convert.h"
#include "native/stats_dict.h"

namespace snakepit::native {
namespace {

// A thread's attachment to the interpreter: a thread state of its
// own for its whole life (so threading.local and thread ids stay put),
// detached - the GIL released - whenever it is not running a call.
class Attachment final : public CallRunner::ThreadScope {
 public:
  Attachment() : gil_(PyGILState_Ensure()), detached_(PyEval_SaveThread()) {}
  ~Attachment() override {
    PyEval_RestoreThread(detached_);
    PyGILState_Release(gil_);
  }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

 private:
  PyGILState_STATE gil_;
  PyThreadState* detached_;
};

constexpr std::size_t kExecuteArgs = 6;

// ExecuteRequest.metadata as a new dict; null with a Python error set.
PyRef MetadataDict(const v1::ExecuteRequest& request) {
  PyRef dict = PyRef::Steal(PyDict_New());
  if (!dict) return dict;
  for (const auto& [key, value] : request.metadata()) {
    PyRef k = FromUtf8(key);
    PyRef v = FromUtf8(value);
    if (!k || !v || PyDict_SetItem(dict.get(), k.get(), v.get()) != 0) return PyRef();
  }
  return dict;
}

// The arguments of WorkerCalls.execute for `request`; false with a Python
// error set if one could not be built.
bool ExecuteArgs(const v1::ExecuteRequest& request, std::array<PyRef, kExecuteArgs>& args) {
  args[0] = PyRef::Steal(PyLong_FromUnsignedLongLong(request.call_id()));
  args[1] = FromUtf8(request.command());
  args[2] = FromUtf8(request.args_json());
  args[3] = PyRef::Steal(PyList_New(request.attachments_size()));
  args[4] = PyRef::Steal(PyLong_FromLongLong(request.deadline_unix_ms()));
  args[5] = MetadataDict(request);
  for (const PyRef& arg : args) {
    if (!arg) return false;
  }
  for (int i = 0; i < request.attachments_size(); ++i) {
    const std::string& blob = request.attachments(i);
    PyObject* bytes = PyBytes_FromStringAndSize(blob.data(), static_cast<Py_ssize_t>(blob.size()));
    if (bytes == nullptr) return false;
    PyList_SET_ITEM(args[3].get(), i, bytes);
  }
  return true;
}

}  // namespace

std::unique_ptr<PythonRunner> PythonRunner::Create(PyObject* execute, PyObject* stats) {
  for (PyObject* callable : {execute, stats}) {
    if (!PyCallable_Check(callable)) {
      PyErr_Format(PyExc_TypeError, "expected a callable, got %.200s", Py_TYPE(callable)->tp_name);
      return nullptr;
    }
  }
  std::unique_ptr<PythonRunner> runner(new PythonRunner());
  runner->execute_ = PyRef::Borrow(execute);
  runner->stats_ = PyRef::Borrow(stats);
  if (!runner->outcome_.Init()) return nullptr;
  return runner;
}

std::unique_ptr<CallRunner::ThreadScope> PythonRunner::AttachThread() { return std::make_unique<Attachment>(); }

bool PythonRunner::Execute(ExecuteCall& call, v1::ExecuteResponse& reply) {
  ScopedGil gil;
  std::array<PyRef, kExecuteArgs> args;
  std::uint64_t call_id = 0;
  bool built = false;
  // Under the call's lock: a stop may cancel the call, and gRPC free the
  // request, at any moment.
  if (!call.Read([&](const v1::ExecuteRequest& request) {
        call_id = request.call_id();
        built = ExecuteArgs(request, args);
      })) {
    return false;
  }
  PyRef outcome;
  if (built) {
    PyObject* argv[kExecuteArgs] = {args[0].get(), args[1].get(), args[2].get(),
                                    args[3].get(), args[4].get(), args[5].get()};
    outcome = PyRef::Steal(PyObject_Vectorcall(execute_.get(), argv, kExecuteArgs, nullptr));
  }
  if (!outcome || !outcome_.Read(outcome.get(), reply)) ExceptionReply(reply);
  reply.set_call_id(call_id);
  return true;
}

grpc::Status PythonRunner::Stats(v1::StatsResponse& response) {
  ScopedGil gil;
  PyRef stats = PyRef::Steal(PyObject_CallNoArgs(stats_.get()));
  if (stats && ReadStats(stats.get(), response)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNKNOWN, "Stats failed in the worker: " + DescribeAndClear());
}

}  // namespace snakepit::native
