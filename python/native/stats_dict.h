// Reading WorkerCalls.stats()'s dict into a StatsResponse.
#ifndef SNAKEPIT_PYTHON_NATIVE_STATS_DICT_H_
#define SNAKEPIT_PYTHON_NATIVE_STATS_DICT_H_

#include "native/py_ref.h"
#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// Fills `response` from `stats`, a dict with a key per StatsResponse field
// (calls.WorkerCalls.stats). REQUIRES: the GIL. False with a Python error
// set when it is not a dict, or a key is missing or of the wrong type.
bool ReadStats(PyObject* stats, v1::StatsResponse& response);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_STATS_DICT_H_
