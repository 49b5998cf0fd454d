// Conversions between Python objects and C++ values for the native server.
// REQUIRES: the GIL, for every function here. Each returns false (or null)
// with a Python exception set when the object is not of the expected kind.
#ifndef SNAKEPIT_PYTHON_NATIVE_PY_CONVERT_H_
#define SNAKEPIT_PYTHON_NATIVE_PY_CONVERT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "native/py_ref.h"

namespace snakepit::native {

// A str as UTF-8 into `out`; lone surrogates are an error.
bool AsUtf8(PyObject* object, std::string* out);
// A str as UTF-8 for human-readable text: lone surrogates are escaped
// (backslashreplace) instead of failing.
bool AsText(PyObject* object, std::string* out);
// An int into `out`, range-checked.
bool AsInt64(PyObject* object, std::int64_t* out);
bool AsUint64(PyObject* object, std::uint64_t* out);

// A new str from UTF-8 bytes (strict: invalid UTF-8 is an error).
PyRef FromUtf8(std::string_view text);

// str(object), else a placeholder; never fails, clears any error.
std::string StrOrPlaceholder(PyObject* object);

// The current Python exception (normalized, its traceback attached), or
// null if none is set; clears it.
PyRef FetchException();

// The current Python exception as "Type: message"; clears it.
std::string DescribeAndClear();

// "ValueError" for builtins, "module.Qualname" otherwise (as
// dispatch.qualified_name does).
std::string QualifiedName(PyObject* type);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_PY_CONVERT_H_
