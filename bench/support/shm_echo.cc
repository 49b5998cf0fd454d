#include "support/shm_echo.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "shm/shm_region.h"
#include "shm/shm_ring.h"

namespace snakepit::bench {
namespace {

using internal::ShmRegion;
using internal::ShmRing;

// The child: echoes until the request ring is closed (or the parent dies:
// PR_SET_PDEATHSIG), then exits without running this process's atexit
// handlers, which belong to the parent's threads.
[[noreturn]] void Serve(const ShmRegion& requests, const ShmRegion& replies, std::size_t capacity,
                        absl::Duration spin) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  absl::StatusOr<ShmRing> in = ShmRing::Attach(requests.bytes(), capacity);
  absl::StatusOr<ShmRing> out = ShmRing::Attach(replies.bytes(), capacity);
  if (!in.ok() || !out.ok()) ::_exit(1);
  in->set_spin(spin);
  out->set_spin(spin);
  while (in->Wait(absl::InfiniteFuture()).ok()) {
    auto message = in->Peek();
    if (!message.ok() || !message->has_value()) ::_exit(1);
    auto space = out->Reserve((*message)->size(), absl::InfiniteFuture());
    if (!space.ok()) ::_exit(1);
    std::memcpy(space->data(), (*message)->data(), (*message)->size());
    out->Commit((*message)->size());
    in->Release();
  }
  ::_exit(0);
}

}  // namespace

struct ShmEcho::State {
  ShmRegion requests;
  ShmRegion replies;
  std::optional<ShmRing> in;   // this side writes requests
  std::optional<ShmRing> out;  // and reads replies
  pid_t pid = -1;
};

ShmEcho::ShmEcho(std::unique_ptr<State> state) : state_(std::move(state)) {}

absl::StatusOr<std::unique_ptr<ShmEcho>> ShmEcho::Start(std::size_t max_message, absl::Duration spin) {
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(max_message + 8, 64));
  absl::StatusOr<ShmRegion> requests = ShmRegion::Create("bench-requests", ShmRing::RegionSize(capacity));
  if (!requests.ok()) return requests.status();
  absl::StatusOr<ShmRegion> replies = ShmRegion::Create("bench-replies", ShmRing::RegionSize(capacity));
  if (!replies.ok()) return replies.status();
  if (absl::Status s = ShmRing::Format(requests->bytes(), capacity); !s.ok()) return s;
  if (absl::Status s = ShmRing::Format(replies->bytes(), capacity); !s.ok()) return s;
  auto state = std::make_unique<State>(
      State{.requests = std::move(*requests), .replies = std::move(*replies), .in = {}, .out = {}, .pid = -1});
  absl::StatusOr<ShmRing> in = ShmRing::Attach(state->requests.bytes(), capacity);
  absl::StatusOr<ShmRing> out = ShmRing::Attach(state->replies.bytes(), capacity);
  if (!in.ok()) return in.status();
  if (!out.ok()) return out.status();
  state->in.emplace(*in);
  state->out.emplace(*out);
  state->in->set_spin(spin);
  state->out->set_spin(spin);
  state->pid = ::fork();
  if (state->pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (state->pid == 0) Serve(state->requests, state->replies, capacity, spin);
  return std::unique_ptr<ShmEcho>(new ShmEcho(std::move(state)));
}

ShmEcho::~ShmEcho() {
  state_->in->Close();
  ::waitpid(state_->pid, nullptr, 0);
}

pid_t ShmEcho::pid() const { return state_->pid; }

absl::Status ShmEcho::RoundTrip(const char* message, std::size_t size, std::string* reply) {
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<std::span<std::byte>> space = state_->in->Reserve(size, deadline);
  if (!space.ok()) return space.status();
  std::memcpy(space->data(), message, size);
  state_->in->Commit(size);
  if (absl::Status s = state_->out->Wait(deadline); !s.ok()) return s;
  auto echoed = state_->out->Peek();
  if (!echoed.ok()) return echoed.status();
  if (!echoed->has_value() || (*echoed)->size() != size) {
    return absl::DataLossError(absl::StrCat("shm echo: sent ", size, " bytes, got another size back"));
  }
  if (reply != nullptr) {
    reply->resize(size);
    std::memcpy(reply->data(), (*echoed)->data(), size);
  }
  state_->out->Release();
  return absl::OkStatus();
}

}  // namespace snakepit::bench
