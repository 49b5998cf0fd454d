// The reply a native server sends, without Python, to a call that found
// every handler thread taken; whichever front end the call came through.
#ifndef SNAKEPIT_PYTHON_NATIVE_BUSY_REPLY_H_
#define SNAKEPIT_PYTHON_NATIVE_BUSY_REPLY_H_

#include <cstdint>

#include "snakepit/v1/worker.pb.h"

namespace snakepit::native {

// The reply to call `call_id`, which found all `slots` handler threads
// taken: what calls.WorkerCalls answers BUSY with, built without Python.
// Timing: now, on this thread (pthread_self, as threading.get_ident), no CPU.
v1::ExecuteResponse BusyReply(std::uint64_t call_id, int slots);

}  // namespace snakepit::native

#endif  // SNAKEPIT_PYTHON_NATIVE_BUSY_REPLY_H_
