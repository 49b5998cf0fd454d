// Routing: submission, dispatch, replies, deadlines.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "router/pool_internal.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

std::atomic<std::uint64_t> g_next_call_id{1};

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), " ms"); }

}  // namespace

void Pool::Submit(std::string command, std::string args_json, CallOptions options, Callback done) {
  auto call = std::make_shared<Call>();
  call->id = g_next_call_id.fetch_add(1, std::memory_order_relaxed);
  call->command = std::move(command);
  call->args_json = std::move(args_json);
  call->attachments = std::move(options.attachments);
  call->submitted = absl::Now();
  const auto timeout = options.timeout.count() > 0 ? options.timeout : config_.call_timeout;
  call->deadline = call->submitted + absl::FromChrono(timeout);
  call->queue_deadline = std::min(call->deadline, call->submitted + absl::FromChrono(config_.queue_timeout));
  call->done = std::move(done);

  std::size_t bytes = call->args_json.size();
  for (const std::string& a : call->attachments) bytes += a.size();
  if (static_cast<std::int64_t>(bytes) > config_.max_message_bytes) {
    Complete(*call, absl::ResourceExhaustedError(absl::StrCat(
                        "pool '", name(), "': command '", call->command, "': args and attachments are ", bytes,
                        " bytes, over the pool's max_message_mb limit of ", config_.max_message_bytes, " bytes")));
    return;
  }

  absl::Status refused;
  Slot* chosen = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      refused = absl::UnavailableError(absl::StrCat("pool '", name(), "' is shut down"));
    } else if ((chosen = PickSlot()) != nullptr) {
      ++chosen->in_flight;
      ++in_flight_;
      ArmDeadline(call, call->deadline);
    } else if (LiveWorkers() == 0) {
      refused = absl::UnavailableError(absl::StrCat("pool '", name(), "' has no live workers"));
    } else if (static_cast<int>(queue_.size()) >= config_.max_queue) {
      ++rejected_;
      refused = absl::ResourceExhaustedError(absl::StrCat("pool '", name(), "' is full: all ", in_flight_,
                                                          " slots busy and ", queue_.size(),
                                                          " calls queued (max_queue=", config_.max_queue, ")"));
    } else {
      call->queued = true;
      queue_.push_back(call);
      queue_high_water_ = std::max(queue_high_water_, static_cast<int>(queue_.size()));
      ArmDeadline(call, call->queue_deadline);
    }
  }
  if (!refused.ok()) {
    Complete(*call, std::move(refused));
  } else if (chosen != nullptr) {
    Send({chosen, std::move(call)});
  }
}

Pool::Slot* Pool::PickSlot() {
  Slot* best = nullptr;
  for (const auto& s : slots_) {
    if (s->state != WorkerState::kReady || s->in_flight >= s->worker->capacity()) continue;
    const int free = s->worker->capacity() - s->in_flight;
    const int best_free = best ? best->worker->capacity() - best->in_flight : 0;
    // Most free capacity first; among equals, the one that served least,
    // so work (and request-count wear) spreads over the pool.
    if (best == nullptr || free > best_free || (free == best_free && s->requests < best->requests)) best = s.get();
  }
  return best;
}

int Pool::LiveWorkers() const {
  return static_cast<int>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
    return s->state == WorkerState::kReady || s->state == WorkerState::kStarting;
  }));
}

void Pool::ArmDeadline(const std::shared_ptr<Call>& call, absl::Time when) {
  timer_.Cancel(call->timer);
  std::weak_ptr<Call> weak = call;
  call->timer = timer_.Schedule(when, [this, weak] {
    if (auto c = weak.lock()) OnTimer(c);
  });
}

std::vector<Pool::Dispatch> Pool::TakeQueuedWork() {
  std::vector<Dispatch> work;
  while (!queue_.empty()) {
    Slot* slot = PickSlot();
    if (slot == nullptr) break;
    std::shared_ptr<Call> call = std::move(queue_.front());
    queue_.pop_front();
    call->queued = false;
    ++slot->in_flight;
    ++in_flight_;
    ArmDeadline(call, call->deadline);
    work.emplace_back(slot, std::move(call));
  }
  return work;
}

void Pool::Send(const Dispatch& work) {
  const auto& [slot, call] = work;
  WorkerCall wire;
  wire.call_id = call->id;
  wire.command = call->command;
  wire.args_json = std::move(call->args_json);
  wire.attachments = std::move(call->attachments);
  wire.deadline = call->deadline;
  call->worker_label = slot->worker->metadata().label;
  // `slot` is a raw pointer on purpose: slots outlive their workers' RPC
  // callbacks (Shutdown destroys workers, which waits for the callbacks),
  // and a callback must never own the worker whose callback it is.
  slot->worker->Execute(std::move(wire),
                        [this, slot, call](absl::StatusOr<Reply> result) { OnReply(slot, call, std::move(result)); });
}

void Pool::OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result) {
  const bool ok = result.ok();
  const bool delivered = Complete(*call, std::move(result));
  std::vector<Dispatch> work;
  {
    absl::MutexLock lock(&mu_);
    timer_.Cancel(call->timer);
    --slot->in_flight;
    --in_flight_;
    ++slot->requests;
    ++requests_;
    if (!ok) ++errors_;
    if (!delivered) ++late_replies_;
    work = TakeQueuedWork();
  }
  if (!delivered) {
    logger()->debug("pool '{}': dropped the late reply of call {} ('{}') from {}", name(), call->id, call->command,
                    call->worker_label);
  }
  for (const Dispatch& w : work) Send(w);
}

void Pool::OnTimer(const std::shared_ptr<Call>& call) {
  const absl::Time now = absl::Now();
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (call->queued) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), call));
      call->queued = false;
      status = absl::DeadlineExceededError(
          now >= call->deadline
              ? absl::StrCat("pool '", name(), "': command '", call->command, "' reached its deadline (",
                             Ms(call->deadline - call->submitted), ") while queued for a free slot")
              : absl::StrCat("pool '", name(), "': command '", call->command, "' waited ", Ms(now - call->submitted),
                             " in the queue (queue_timeout=", Ms(absl::FromChrono(config_.queue_timeout)),
                             ") with all ", in_flight_, " slots busy"));
    } else {
      status = absl::DeadlineExceededError(absl::StrCat(
          "pool '", name(), "': command '", call->command, "' did not finish within its deadline (",
          Ms(call->deadline - call->submitted), ") on worker ", call->worker_label, "; its reply will be discarded"));
    }
  }
  Complete(*call, std::move(status));
}

bool Pool::Complete(Call& call, absl::StatusOr<Reply> result) {
  if (call.finished.exchange(true, std::memory_order_acq_rel)) return false;
  if (absl::IsDeadlineExceeded(result.status())) timeouts_.fetch_add(1, std::memory_order_relaxed);
  Callback done = std::move(call.done);
  done(std::move(result));
  return true;
}

}  // namespace snakepit::internal
