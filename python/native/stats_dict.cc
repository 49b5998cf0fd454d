#include "native/stats_dict.h"

#include <cstdint>
#include <string>

#include "native/py_convert.h"

namespace snakepit::native {
namespace {

// The value of `key`, borrowed; null with KeyError when it is missing.
PyObject* Item(PyObject* dict, const char* key) {
  PyObject* value = PyDict_GetItemString(dict, key);
  if (value == nullptr && !PyErr_Occurred()) PyErr_Format(PyExc_KeyError, "stats() has no %s", key);
  return value;
}

bool Int(PyObject* dict, const char* key, std::int64_t* out) {
  PyObject* value = Item(dict, key);
  return value != nullptr && AsInt64(value, out);
}

bool Text(PyObject* dict, const char* key, std::string* out) {
  PyObject* value = Item(dict, key);
  return value != nullptr && AsText(value, out);
}

bool Flag(PyObject* dict, const char* key, bool* out) {
  PyObject* value = Item(dict, key);
  if (value == nullptr) return false;
  const int truth = PyObject_IsTrue(value);
  *out = truth == 1;
  return truth >= 0;
}

bool Float(PyObject* dict, const char* key, double* out) {
  PyObject* value = Item(dict, key);
  if (value == nullptr) return false;
  *out = PyFloat_AsDouble(value);
  return !(*out == -1.0 && PyErr_Occurred());
}

}  // namespace

bool ReadStats(PyObject* stats, v1::StatsResponse& response) {
  if (!PyDict_Check(stats)) {
    PyErr_Format(PyExc_TypeError, "stats() must return a dict, not %.200s", Py_TYPE(stats)->tp_name);
    return false;
  }
  std::int64_t pid = 0, max_concurrency = 0, in_flight = 0, served = 0, failed = 0, threads = 0;
  double uptime_s = 0;
  bool free_threaded_build = false, gil_enabled = false;
  if (!Int(stats, "pid", &pid) || !Int(stats, "max_concurrency", &max_concurrency) ||
      !Int(stats, "in_flight", &in_flight) || !Int(stats, "requests_served", &served) ||
      !Int(stats, "requests_failed", &failed) || !Int(stats, "threads", &threads) ||
      !Float(stats, "uptime_s", &uptime_s) || !Flag(stats, "free_threaded_build", &free_threaded_build) ||
      !Flag(stats, "gil_enabled", &gil_enabled) || !Text(stats, "mode", response.mutable_mode()) ||
      !Text(stats, "python_version", response.mutable_python_version()) ||
      !Text(stats, "adapter", response.mutable_adapter()) ||
      !Text(stats, "diagnostics_json", response.mutable_diagnostics_json())) {
    return false;
  }
  response.set_pid(static_cast<std::int32_t>(pid));
  response.set_max_concurrency(static_cast<std::int32_t>(max_concurrency));
  response.set_in_flight(static_cast<std::int32_t>(in_flight));
  response.set_requests_served(static_cast<std::uint64_t>(served));
  response.set_requests_failed(static_cast<std::uint64_t>(failed));
  response.set_threads(static_cast<std::int32_t>(threads));
  response.set_uptime_s(uptime_s);
  response.set_free_threaded_build(free_threaded_build);
  response.set_gil_enabled(gil_enabled);
  return true;
}

}  // namespace snakepit::native
