#include "native/busy_reply.h"

#include <pthread.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace snakepit::native {

v1::ExecuteResponse BusyReply(std::uint64_t call_id, int slots) {
  v1::ExecuteResponse reply;
  reply.set_call_id(call_id);
  v1::Error& error = *reply.mutable_error();
  error.set_kind(v1::Error::BUSY);
  error.set_message(absl::StrCat("all ", slots, " execution slots of worker pid ", ::getpid(), " are busy"));
  const std::int64_t now = absl::GetCurrentTimeNanos();
  v1::Timing& timing = *reply.mutable_timing();
  timing.set_started_unix_ns(now);
  timing.set_finished_unix_ns(now);
  timing.set_thread_id(static_cast<std::uint64_t>(pthread_self()));
  return reply;
}

}  // namespace snakepit::native
