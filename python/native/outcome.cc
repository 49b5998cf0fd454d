#include "native/outcome.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "native/py_convert.h"
#include "shm/fresh_buffer.h"

namespace snakepit::native {
namespace {

bool Intern(const char* name, PyRef* out) {
  *out = PyRef::Steal(PyUnicode_InternFromString(name));
  return static_cast<bool>(*out);
}

PyRef Attr(PyObject* object, const PyRef& name) { return PyRef::Steal(PyObject_GetAttr(object, name.get())); }

bool Int64Attr(PyObject* object, const PyRef& name, std::int64_t* out) {
  PyRef value = Attr(object, name);
  return value && AsInt64(value.get(), out);
}

bool TextAttr(PyObject* object, const PyRef& name, std::string* out) {
  PyRef value = Attr(object, name);
  return value && AsText(value.get(), out);
}

// "".join(traceback.format_exception(error)), or a note saying why not.
std::string FormatTraceback(PyObject* error) {
  PyRef module = PyRef::Steal(PyImport_ImportModule("traceback"));
  PyRef lines = module ? PyRef::Steal(PyObject_CallMethod(module.get(), "format_exception", "O", error)) : PyRef();
  PyRef empty = PyRef::Steal(PyUnicode_FromStringAndSize("", 0));
  PyRef text = lines && empty ? PyRef::Steal(PyUnicode_Join(empty.get(), lines.get())) : PyRef();
  std::string out;
  if (!text || !AsText(text.get(), &out)) return "(the traceback could not be formatted: " + DescribeAndClear() + ")";
  return out;
}

std::int64_t UnixNanosNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool OutcomeReader::Init() {
  return Intern("started_ns", &started_ns_) && Intern("finished_ns", &finished_ns_) &&
         Intern("thread_id", &thread_id_) && Intern("cpu_ns", &cpu_ns_) && Intern("error", &error_) &&
         Intern("json", &json_) && Intern("attachments", &attachments_) && Intern("kind", &kind_) &&
         Intern("type", &type_) && Intern("message", &message_) && Intern("traceback", &traceback_);
}

bool OutcomeReader::Read(PyObject* outcome, v1::ExecuteResponse& reply, HeldAttachments* held) const {
  std::int64_t started = 0, finished = 0, cpu = 0;
  std::uint64_t thread = 0;
  PyRef thread_id = Attr(outcome, thread_id_);
  if (!Int64Attr(outcome, started_ns_, &started) || !Int64Attr(outcome, finished_ns_, &finished) ||
      !Int64Attr(outcome, cpu_ns_, &cpu) || !thread_id || !AsUint64(thread_id.get(), &thread)) {
    return false;
  }
  v1::Timing& timing = *reply.mutable_timing();
  timing.set_started_unix_ns(started);
  timing.set_finished_unix_ns(finished);
  timing.set_thread_id(thread);
  timing.set_cpu_ns(cpu);
  PyRef error = Attr(outcome, error_);
  if (!error) return false;
  if (error.get() == Py_None) return ReadResult(outcome, *reply.mutable_result(), held);
  return ReadError(error.get(), *reply.mutable_error());
}

bool OutcomeReader::ReadResult(PyObject* outcome, v1::Result& result, HeldAttachments* held) const {
  PyRef json = Attr(outcome, json_);
  if (!json || !AsUtf8(json.get(), result.mutable_json())) return false;
  PyRef attachments = Attr(outcome, attachments_);
  PyRef items =
      attachments ? PyRef::Steal(PySequence_Fast(attachments.get(), "Outcome.attachments must be a list")) : PyRef();
  if (!items) return false;
  const Py_ssize_t count = PySequence_Fast_GET_SIZE(items.get());
  // Each is a bytes object or a read-only buffer (dispatch.encode keeps a
  // view of an immutable object as it is): exported here, released below
  // unless held.
  std::vector<Py_buffer> buffers(static_cast<std::size_t>(count));
  Py_ssize_t exported = 0;
  const auto release = [&] {
    for (Py_ssize_t i = 0; i < exported; ++i) PyBuffer_Release(&buffers[i]);
    exported = 0;
  };
  std::size_t total = 0;
  for (; exported < count; ++exported) {
    if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(items.get(), exported), &buffers[exported], PyBUF_SIMPLE) != 0) {
      release();
      return false;
    }
    total += static_cast<std::size_t>(buffers[exported].len);
  }
  const bool hold = held != nullptr && total >= kHoldMin;
  for (Py_ssize_t i = 0; i < count; ++i) {
    if (hold) {
      held->Hold(std::move(buffers[i]));
    } else {
      result.add_attachments(
          internal::FreshCopy(static_cast<const char*>(buffers[i].buf), static_cast<std::size_t>(buffers[i].len)));
    }
  }
  release();  // the held ones were left empty: releasing them does nothing
  return true;
}

bool OutcomeReader::ReadError(PyObject* error, v1::Error& out) const {
  std::string kind;
  if (!TextAttr(error, kind_, &kind)) return false;
  v1::Error::Kind value = v1::Error::KIND_UNSPECIFIED;
  if (!v1::Error::Kind_Parse(kind, &value)) {
    PyErr_Format(PyExc_ValueError, "unknown Error.Kind %R", Attr(error, kind_).get());
    return false;
  }
  out.set_kind(value);
  return TextAttr(error, type_, out.mutable_type()) && TextAttr(error, message_, out.mutable_message()) &&
         TextAttr(error, traceback_, out.mutable_traceback());
}

void ExceptionReply(v1::ExecuteResponse& reply) {
  PyRef error = FetchException();
  reply.Clear();
  v1::Error& out = *reply.mutable_error();
  out.set_kind(v1::Error::EXCEPTION);
  if (error) {
    out.set_type(QualifiedName(reinterpret_cast<PyObject*>(Py_TYPE(error.get()))));
    out.set_message(StrOrPlaceholder(error.get()));
    out.set_traceback(FormatTraceback(error.get()));
  } else {
    out.set_type("SystemError");
    out.set_message("the native server failed without a Python exception");
  }
  const std::int64_t now = UnixNanosNow();
  v1::Timing& timing = *reply.mutable_timing();
  timing.set_started_unix_ns(now);
  timing.set_finished_unix_ns(now);
  timing.set_thread_id(PyThread_get_thread_ident());
}

}  // namespace snakepit::native
