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

// How long a worker whose channel failed may take to be seen exiting
// before it is killed as unreachable.
constexpr absl::Duration kSuspectGrace = absl::Seconds(1);

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
  call->idempotent = options.idempotent;
  call->attempts_left = options.idempotent ? std::max(1, options.max_attempts) : 1;

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
  LoadEdges edges;
  {
    MutexLock lock(&mu_);
    if (closed_) {
      refused = absl::UnavailableError(absl::StrCat("pool '", name(), "' is shut down"));
    } else if ((chosen = PickSlot()) != nullptr) {
      ++chosen->in_flight;
      ++in_flight_;
      call->admitted = true;
      call->sent = call->submitted;
      call->worker_label = chosen->label;
      ArmDeadline(call, call->deadline);
      ArmKillTimer(chosen, call);
      edges = NoteLoad(call->submitted);
    } else if (degraded_ && ReadyWorkers() == 0) {
      refused = DegradedError();
    } else if (LiveWorkers() == 0) {
      refused = absl::UnavailableError(absl::StrCat("pool '", name(), "' has no live workers"));
    } else if (static_cast<int>(queue_.size()) >= config_.max_queue) {
      ++rejected_;
      refused = absl::ResourceExhaustedError(absl::StrCat("pool '", name(), "' is full: all ", in_flight_,
                                                          " slots busy and ", queue_.size(),
                                                          " calls queued (max_queue=", config_.max_queue, ")"));
    } else {
      call->queued = true;
      call->admitted = true;
      queue_.push_back(call);
      queue_high_water_ = std::max(queue_high_water_, static_cast<int>(queue_.size()));
      ArmDeadline(call, call->queue_deadline);
      edges = NoteLoad(call->submitted);
    }
  }
  EmitLoadEdges(edges);
  if (!refused.ok()) {
    Complete(*call, std::move(refused));
  } else if (chosen != nullptr) {
    Send({chosen, std::move(call)});
  }
}

Pool::Slot* Pool::PickSlot() {
  Slot* best = nullptr;
  for (const auto& s : slots_) {
    if (s->state != WorkerState::kReady || s->suspect || s->in_flight >= s->worker->capacity()) continue;
    // A worker never gets more calls than its request limit: it is recycled
    // once the calls it has taken are done.
    if (s->request_limit > 0 && s->requests + static_cast<std::uint64_t>(s->in_flight) >= s->request_limit) continue;
    const int free = s->worker->capacity() - s->in_flight;
    const int best_free = best ? best->worker->capacity() - best->in_flight : 0;
    // Most free capacity first; among equals, the one that served least,
    // so work (and request-count wear) spreads over the pool.
    if (best == nullptr || free > best_free || (free == best_free && s->requests < best->requests)) best = s.get();
  }
  return best;
}

int Pool::LiveWorkers() const {
  // Draining workers and restarts in progress count: each stands for a
  // worker that is or will be there, so calls may wait for it.
  return pending_starts_ + static_cast<int>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
           return s->state == WorkerState::kReady || s->state == WorkerState::kStarting ||
                  s->state == WorkerState::kDraining;
         }));
}

int Pool::ReadyWorkers() const {
  // Workers that can take a call now or once a call of theirs ends: ready,
  // reachable, and under their request limit.
  return static_cast<int>(std::count_if(slots_.begin(), slots_.end(), [](const auto& s) {
    return s->state == WorkerState::kReady && !s->suspect && (s->request_limit == 0 || s->requests < s->request_limit);
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
  const absl::Time now = absl::Now();
  while (!queue_.empty()) {
    Slot* slot = PickSlot();
    if (slot == nullptr) break;
    std::shared_ptr<Call> call = std::move(queue_.front());
    queue_.pop_front();
    call->queued = false;
    call->sent = now;
    call->worker_label = slot->label;
    ++slot->in_flight;
    ++in_flight_;
    ArmDeadline(call, call->deadline);
    ArmKillTimer(slot, call);
    work.emplace_back(slot, std::move(call));
  }
  // Draining the queue only ends conditions; nothing to announce.
  (void)NoteLoad(now);
  return work;
}

void Pool::Send(const Dispatch& work) {
  // (Named, not a structured binding: lambdas may not capture those before
  // C++20 as clang 14 implements it.)
  Slot* const slot = work.first;
  const std::shared_ptr<Call>& call = work.second;
  WorkerCall wire;
  wire.call_id = call->id;
  wire.command = call->command;
  // A call that may run again keeps its payload for the next attempt.
  if (call->attempts_left > 1) {
    wire.args_json = call->args_json;
    wire.attachments = call->attachments;
  } else {
    wire.args_json = std::move(call->args_json);
    wire.attachments = std::move(call->attachments);
  }
  wire.deadline = call->deadline;
  // `slot` is a raw pointer on purpose: a slot's worker is destroyed only
  // once no call is in flight or being sent on it (RemoveSlot, Shutdown),
  // and destroying a worker waits for its RPC callbacks; a callback must
  // never own the worker whose callback it is.
  slot->senders.fetch_add(1, std::memory_order_acq_rel);
  slot->worker->Execute(std::move(wire),
                        [this, slot, call](absl::StatusOr<Reply> result) { OnReply(slot, call, std::move(result)); });
  slot->senders.fetch_sub(1, std::memory_order_acq_rel);
}

void Pool::OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result) {
  const bool ok = result.ok();
  // The router maps no Python error to UNAVAILABLE: it means the channel
  // broke, which on a Unix socket means the process is dying.
  const bool transport_failed = absl::IsUnavailable(result.status());
  const absl::Time now = absl::Now();
  // An idempotent call whose worker died runs again, unless its caller
  // already has an answer (deadline) or it is out of attempts or time.
  bool retry = false;
  // Claimed first, delivered last: the books are updated in between, so a
  // caller who has its reply sees it counted in stats(), and a caller told
  // of a broken worker can no longer see it ready or be routed to it.
  bool claimed = false;
  std::vector<Dispatch> work;
  bool limit_reached = false;
  int slot_id = 0;
  std::string worker_label;  // copied: a retry may dispatch the call again at once
  {
    MutexLock lock(&mu_);
    worker_label = call->worker_label;
    retry = transport_failed && call->attempts_left > 1 && now < call->deadline && !closed_ &&
            !call->finished.load(std::memory_order_acquire);
    claimed = !retry && Claim(*call);
    timer_.Cancel(call->timer);
    timer_.Cancel(call->kill_timer);
    call->answered = true;
    --slot->in_flight;
    --in_flight_;
    slot->busy += now - call->sent;
    busy_total_ += now - call->sent;
    if (ok) {
      slot->cpu += absl::FromChrono(result->python_cpu_time);
      cpu_total_ += absl::FromChrono(result->python_cpu_time);
    }
    ++slot->requests;
    if (!retry) {
      ++requests_;
      if (!ok) ++errors_;
      if (!claimed) ++late_replies_;
    }
    slot_id = slot->id;
    if (transport_failed && slot->state == WorkerState::kReady && !slot->suspect) {
      // gRPC may see the socket close before the exit watcher sees the
      // exit. If the process somehow lives on, it is unreachable: killed
      // after a grace period and replaced all the same.
      slot->suspect = true;
      timer_.Schedule(absl::Now() + kSuspectGrace, [this, slot_id] { Kill(slot_id, "unreachable"); });
    }
    limit_reached = slot->request_limit > 0 && slot->requests >= slot->request_limit &&
                    slot->state == WorkerState::kReady && !slot->recycling;
    if (retry) {
      // First in line: it has waited longest. Its deadline timer stays
      // armed and now ends it as a queued call if no worker frees up.
      --call->attempts_left;
      call->answered = false;
      call->queued = true;
      queue_.push_front(call);
      ++retries_;
    }
    work = TakeQueuedWork();
  }
  if (retry) {
    logger()->debug("pool '{}': retrying idempotent call {} ('{}'): its worker {} died", name(), call->id,
                    call->command, worker_label);
  } else if (claimed) {
    Deliver(*call, std::move(result));
  } else {
    logger()->debug("pool '{}': dropped the late reply of call {} ('{}') from {}", name(), call->id, call->command,
                    worker_label);
  }
  // Recycled at once rather than at the lifecycle manager's next tick: the
  // worker takes no more calls, so every moment until then is lost capacity.
  if (limit_reached) (void)Recycle(slot_id, "max_requests");
  for (const Dispatch& w : work) Send(w);
}

void Pool::OnTimer(const std::shared_ptr<Call>& call) {
  const absl::Time now = absl::Now();
  absl::Status status;
  {
    MutexLock lock(&mu_);
    if (call->queued) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), call));
      call->queued = false;
      (void)NoteLoad(now);
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
  if (!Claim(call)) return false;
  Deliver(call, std::move(result));
  return true;
}

bool Pool::Claim(Call& call) { return !call.finished.exchange(true, std::memory_order_acq_rel); }

void Pool::Deliver(Call& call, absl::StatusOr<Reply> result) {
  if (absl::IsDeadlineExceeded(result.status())) timeouts_.fetch_add(1, std::memory_order_relaxed);
  RecordCompletion(call, result.status());
  Callback done = std::move(call.done);
  done(std::move(result));
}

}  // namespace snakepit::internal
