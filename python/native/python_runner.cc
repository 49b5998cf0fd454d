#include "native/python_runner.h"

#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "native/attachment_buffer.h"
#include "native/py_convert.h"
#include "native/python_stream.h"
#include "native/stats_dict.h"
#include "native/stream_call.h"

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

// The arguments of WorkerCalls.execute for `request`, but the attachments
// (args[3]); false with a Python error set if one could not be built.
bool ExecuteArgs(const v1::ExecuteRequest& request, std::array<PyRef, kExecuteArgs>& args) {
  args[0] = PyRef::Steal(PyLong_FromUnsignedLongLong(request.call_id()));
  args[1] = FromUtf8(request.command());
  args[2] = FromUtf8(request.args_json());
  args[4] = PyRef::Steal(PyLong_FromLongLong(request.deadline_unix_ms()));
  args[5] = MetadataDict(request);
  return args[0] && args[1] && args[2] && args[4] && args[5];
}

// `attachments` as a new list of AttachmentBuffers of `type`, each string
// moved into its object: Python sees the bytes where the transport put
// them. Null with a Python error set on failure.
PyRef AttachmentList(PyTypeObject* type, CallRequest::Attachments& attachments) {
  PyRef list = PyRef::Steal(PyList_New(attachments.size()));
  if (!list) return list;
  for (int i = 0; i < attachments.size(); ++i) {
    PyRef buffer = NewAttachmentBuffer(type, std::move(*attachments.Mutable(i)));
    if (!buffer) return PyRef();
    PyList_SET_ITEM(list.get(), i, buffer.release());
  }
  return list;
}

}  // namespace

std::unique_ptr<PythonRunner> PythonRunner::Create(PyObject* execute, PyObject* execute_stream, PyObject* cancel,
                                                   PyObject* stats, PyObject* attachment_type) {
  if (attachment_type == nullptr || !PyType_Check(attachment_type)) {
    PyErr_SetString(PyExc_TypeError, "expected the AttachmentBuffer type");
    return nullptr;
  }
  for (PyObject* callable : {execute, execute_stream, cancel, stats}) {
    if (!PyCallable_Check(callable)) {
      PyErr_Format(PyExc_TypeError, "expected a callable, got %.200s", Py_TYPE(callable)->tp_name);
      return nullptr;
    }
  }
  std::unique_ptr<PythonRunner> runner(new PythonRunner());
  runner->execute_ = PyRef::Borrow(execute);
  runner->execute_stream_ = PyRef::Borrow(execute_stream);
  runner->cancel_ = PyRef::Borrow(cancel);
  runner->stats_ = PyRef::Borrow(stats);
  runner->attachment_type_ = PyRef::Borrow(attachment_type);
  if (!runner->outcome_.Init()) return nullptr;
  return runner;
}

std::unique_ptr<CallRunner::ThreadScope> PythonRunner::AttachThread() { return std::make_unique<Attachment>(); }

bool PythonRunner::Execute(CallRequest& call, v1::ExecuteResponse& reply, HeldAttachments* held) {
  ScopedGil gil;
  std::uint64_t call_id = 0;
  std::optional<PyRef> outcome = CallWithRequest(execute_.get(), call, &call_id);
  if (!outcome.has_value()) return false;
  if (!*outcome || !outcome_.Read(outcome->get(), reply, held)) {
    if (held != nullptr) held->ClearHoldingGil();
    ExceptionReply(reply);
  }
  reply.set_call_id(call_id);
  return true;
}

std::unique_ptr<ChunkSource> PythonRunner::OpenStream(CallRequest& call) {
  ScopedGil gil;
  std::uint64_t call_id = 0;
  std::optional<PyRef> run = CallWithRequest(execute_stream_.get(), call, &call_id);
  if (!run.has_value()) return nullptr;
  if (!*run) {  // the glue failed: the stream ends with that error
    v1::StreamMessage end;
    ExceptionReply(*end.mutable_end());
    end.mutable_end()->set_call_id(call_id);
    return std::make_unique<EndedSource>(std::move(end));
  }
  return std::make_unique<PythonStream>(*std::move(run), call_id, outcome_);
}

void PythonRunner::Cancel(std::uint64_t call_id, bool deadline_exceeded) {
  ScopedGil gil;
  PyRef id = PyRef::Steal(PyLong_FromUnsignedLongLong(call_id));
  PyRef found = id ? PyRef::Steal(PyObject_CallFunctionObjArgs(cancel_.get(), id.get(),
                                                               deadline_exceeded ? Py_True : Py_False, nullptr))
                   : PyRef();
  if (!found) PyErr_WriteUnraisable(cancel_.get());
}

std::optional<PyRef> PythonRunner::CallWithRequest(PyObject* callable, CallRequest& call, std::uint64_t* call_id) {
  std::array<PyRef, kExecuteArgs> args;
  bool built = false;
  // Under the call's lock: a stop may cancel the call at any moment.
  if (!call.Read([&](const v1::ExecuteRequest& request) {
        *call_id = request.call_id();
        built = ExecuteArgs(request, args);
      })) {
    return std::nullopt;
  }
  if (!built) return PyRef();
  CallRequest::Attachments attachments = call.TakeAttachments();
  args[3] = AttachmentList(reinterpret_cast<PyTypeObject*>(attachment_type_.get()), attachments);
  if (!args[3]) return PyRef();
  PyObject* argv[kExecuteArgs] = {args[0].get(), args[1].get(), args[2].get(),
                                  args[3].get(), args[4].get(), args[5].get()};
  return PyRef::Steal(PyObject_Vectorcall(callable, argv, kExecuteArgs, nullptr));
}

grpc::Status PythonRunner::Stats(v1::StatsResponse& response) {
  ScopedGil gil;
  PyRef stats = PyRef::Steal(PyObject_CallNoArgs(stats_.get()));
  if (stats && ReadStats(stats.get(), response)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNKNOWN, "Stats failed in the worker: " + DescribeAndClear());
}

}  // namespace snakepit::native
