#include "pool/call_router.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/call_metadata.h"
#include "common/callback_scope.h"
#include "snakepit/logging.h"

namespace snakepit::internal {
namespace {

std::atomic<std::uint64_t> g_next_call_id{1};

// How long a worker whose channel failed may take to be seen exiting
// before it is killed as unreachable.
constexpr absl::Duration kUnreachableGrace = absl::Seconds(1);

std::string Ms(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d), " ms"); }

// A call's log lines carry its trace id, when its caller gave a traceparent.
std::string TraceTag(const Call& call) {
  return call.trace_id.empty() ? "" : absl::StrCat(" [trace_id=", call.trace_id, "]");
}

}  // namespace

CallRouter::CallRouter(PoolCore& core, PoolTelemetry& telemetry, WorkerControl& workers)
    : core_(core), telemetry_(telemetry), workers_(workers) {}

void CallRouter::Submit(std::string command, std::string args_json, CallOptions options, Call::Callback done,
                        std::shared_ptr<StreamChannel> stream, ReplyWaiter* waiter) {
  const PoolConfig& config = core_.config;
  auto call = std::make_shared<Call>();
  call->id = g_next_call_id.fetch_add(1, std::memory_order_relaxed);
  call->command = std::move(command);
  call->args_json = std::move(args_json);
  call->attachments = std::move(options.attachments);
  call->trace_id = TraceIdOf(options.metadata);
  call->metadata = std::move(options.metadata);
  call->stream = std::move(stream);
  call->submitted = core_.clock.Now();
  call->done = std::move(done);
  call->waiter = waiter;
  // A stream's chunks may already be with its reader: never run it twice.
  call->attempts_left = options.idempotent && !call->stream ? std::max(1, options.max_attempts) : 1;
  call->affinity_key = std::move(options.affinity_key);
  call->affinity = options.affinity;
  if (options.timeout.count() < 0) {
    Complete(*call, absl::DeadlineExceededError(absl::StrCat("pool '", core_.name(), "': command '", call->command,
                                                             "' was submitted with a negative timeout (",
                                                             options.timeout.count(), " ms)")));
    return;
  }
  const auto timeout = options.timeout.count() > 0 ? options.timeout : config.call_timeout;
  call->deadline = call->submitted + absl::FromChrono(timeout);
  call->queue_deadline = std::min(call->deadline, call->submitted + absl::FromChrono(config.queue_timeout));
  // In real time: the reader waits on the wall clock, whatever clock the
  // pool runs on (a fake one in tests).
  if (call->stream) call->stream->SetDeadline(absl::Now() + (call->deadline - call->submitted));

  if (options.stop_token.stop_requested() || (call->stream && call->stream->cancel_token().stop_requested())) {
    Complete(*call, absl::CancelledError(absl::StrCat("pool '", core_.name(), "': command '", call->command,
                                                      "' was cancelled before it was submitted")));
    return;
  }
  std::size_t bytes = call->args_json.size();
  for (const std::string& a : call->attachments) bytes += a.size();
  if (static_cast<std::int64_t>(bytes) > config.max_message_bytes) {
    Complete(*call, absl::ResourceExhaustedError(absl::StrCat(
                        "pool '", core_.name(), "': command '", call->command, "': args and attachments are ", bytes,
                        " bytes, over the pool's max_message_mb limit of ", config.max_message_bytes, " bytes")));
    return;
  }

  absl::Status refused;
  Slot* chosen = nullptr;
  PoolTelemetry::LoadEdges edges;
  {
    MutexLock lock(&core_.mu);
    if (core_.closed) {
      refused = absl::UnavailableError(absl::StrCat("pool '", core_.name(), "' is shut down"));
    } else if ((chosen = ChooseSlot(*call)) != nullptr) {
      Assign(*chosen, call, call->submitted);
      edges = NoteLoad(call->submitted);
    } else if (call->pinned >= 0 && call->affinity == Affinity::kStrictFailFast) {
      refused = absl::ResourceExhaustedError(absl::StrCat("pool '", core_.name(), "': affinity key '",
                                                          call->affinity_key, "': its worker ", core_.name(), "-",
                                                          call->pinned, " has no free slot (strict, fail fast)"));
    } else if (core_.Hopeless()) {
      refused = core_.DegradedError();
    } else if (core_.LiveWorkers() == 0) {
      refused = absl::UnavailableError(absl::StrCat("pool '", core_.name(), "' has no live workers"));
    } else if (static_cast<int>(core_.queue.size()) >= config.max_queue) {
      telemetry_.CountRejected();
      refused = absl::ResourceExhaustedError(absl::StrCat("pool '", core_.name(), "' is full: all ", core_.in_flight,
                                                          " slots busy and ", core_.queue.size(),
                                                          " calls queued (max_queue=", config.max_queue, ")"));
    } else {
      call->queued = true;
      call->admitted = true;
      core_.queue.push_back(call);
      ArmDeadline(call, call->queue_deadline);
      edges = NoteLoad(call->submitted);
    }
  }
  telemetry_.EmitLoadEdges(edges);
  if (!refused.ok()) {
    Complete(*call, std::move(refused));
    return;
  }
  if (chosen != nullptr) Send({chosen, call});
  // Watched once sent, so that a cancel finds the call on its worker.
  WatchStop(call, std::move(options.stop_token));
}

void CallRouter::WatchStop(const std::shared_ptr<Call>& call, std::stop_token caller) {
  std::vector<std::unique_ptr<Call::StopCallback>> callbacks;
  std::weak_ptr<Call> weak = call;
  std::function<void()> cancel = [this, weak] {
    if (auto c = weak.lock()) {
      Abandon(c,
              absl::CancelledError(absl::StrCat("pool '", core_.name(), "': command '", c->command, "' was cancelled")),
              CancelReason::kCancelled);
    }
  };
  // Either may run `cancel` at once, here, if its stop was already asked.
  if (caller.stop_possible()) callbacks.push_back(std::make_unique<Call::StopCallback>(std::move(caller), cancel));
  if (call->stream) callbacks.push_back(std::make_unique<Call::StopCallback>(call->stream->cancel_token(), cancel));
  if (callbacks.empty()) return;
  {
    MutexLock lock(&core_.mu);
    // Delivered meanwhile: Deliver has dropped the call's callbacks, and
    // these are dropped here, outside the lock.
    if (!call->finished()) {
      for (auto& cb : callbacks) call->stop_callbacks.push_back(std::move(cb));
    }
  }
}

Slot* CallRouter::PickSlot() {
  Slot* best = nullptr;
  for (const auto& s : core_.slots) {
    if (!s->TakesCalls()) continue;
    // Most free capacity first; among equals, the one that answered last.
    if (best == nullptr || s->free_capacity() > best->free_capacity() ||
        (s->free_capacity() == best->free_capacity() && s->last_reply > best->last_reply)) {
      best = s.get();
    }
  }
  return best;
}

Slot* CallRouter::ChooseSlot(Call& call) {
  call.pinned = -1;
  if (call.affinity_key.empty()) return PickSlot();
  const int id = core_.affinity.Lookup(call.affinity_key);
  if (id >= 0) {
    const std::shared_ptr<Slot> home = core_.Find(id);
    if (home != nullptr && home->TakesCalls()) return home.get();
    if (home != nullptr && home->Routable()) {
      // Busy: a hint goes elsewhere (and the key moves with it); a strict
      // call waits for this worker, or its caller fails it fast.
      if (call.affinity != Affinity::kHint) {
        call.pinned = id;
        return nullptr;
      }
    } else {
      // Its worker left or is leaving (recycled, scaled down, dead, at
      // its request limit): the key re-homes with this call.
      core_.affinity.Forget(call.affinity_key);
    }
  }
  return PickSlot();
}

void CallRouter::Assign(Slot& slot, const std::shared_ptr<Call>& call, absl::Time now) {
  if (!call->affinity_key.empty()) core_.affinity.Bind(call->affinity_key, slot.id);
  ++slot.in_flight;
  ++core_.in_flight;
  call->admitted = true;
  call->queued = false;
  call->sent = now;
  call->worker_label = slot.label;
  call->slot = &slot;
  ++call->attempts;
  ArmDeadline(call, call->deadline);
}

std::vector<CallRouter::Dispatch> CallRouter::TakeQueuedWork(absl::Time now) {
  std::vector<Dispatch> work;
  // Oldest first. A strict affinity call whose worker is busy keeps its
  // place and lets the calls behind it pass; any other call that finds no
  // slot means no slot is free, which ends the pass.
  for (auto it = core_.queue.begin(); it != core_.queue.end();) {
    Slot* slot = ChooseSlot(**it);
    if (slot == nullptr) {
      if ((*it)->pinned < 0) break;
      ++it;
      continue;
    }
    std::shared_ptr<Call> call = std::move(*it);
    it = core_.queue.erase(it);
    Assign(*slot, call, now);
    work.emplace_back(slot, std::move(call));
  }
  // Draining the queue only ends conditions; nothing to announce.
  (void)NoteLoad(now);
  return work;
}

std::vector<std::shared_ptr<Call>> CallRouter::TakeQueue(absl::Time now) {
  std::vector<std::shared_ptr<Call>> taken(core_.queue.begin(), core_.queue.end());
  core_.queue.clear();
  (void)NoteLoad(now);
  for (auto& c : taken) {
    c->queued = false;
    core_.clock.Cancel(c->timer);
  }
  return taken;
}

PoolTelemetry::LoadEdges CallRouter::NoteLoad(absl::Time now) {
  return telemetry_.NoteLoad(static_cast<int>(core_.queue.size()), core_.in_flight, core_.RoutableCapacity(), now);
}

void CallRouter::DispatchQueued() {
  std::vector<Dispatch> work;
  {
    MutexLock lock(&core_.mu);
    work = TakeQueuedWork(core_.clock.Now());
  }
  for (const Dispatch& w : work) Send(w);
}

void CallRouter::FailQueueIfHopeless() {
  std::vector<std::shared_ptr<Call>> hopeless;
  absl::Status why;
  {
    MutexLock lock(&core_.mu);
    if (!core_.Hopeless()) return;
    hopeless = TakeQueue(core_.clock.Now());
    why = core_.DegradedError();
  }
  for (auto& c : hopeless) Complete(*c, why);
}

void CallRouter::FailQueue(const absl::Status& why) {
  std::vector<std::shared_ptr<Call>> queued;
  {
    MutexLock lock(&core_.mu);
    queued = TakeQueue(core_.clock.Now());
  }
  for (auto& c : queued) Complete(*c, why);
}

bool CallRouter::AwaitIdle(absl::Time deadline) {
  MutexLock lock(&core_.mu);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(core_.mu) { return core_.in_flight == core_.abandoned; };
  return core_.clock.AwaitUntil(&core_.mu, Condition(&idle), deadline);
}

void CallRouter::ArmDeadline(const std::shared_ptr<Call>& call, absl::Time when) {
  core_.clock.Cancel(call->timer);
  std::weak_ptr<Call> weak = call;
  call->timer = core_.clock.Schedule(when, [this, weak] {
    if (auto c = weak.lock()) OnDeadline(c);
  });
}

void CallRouter::ArmKillTimer(const Slot& slot, const std::shared_ptr<Call>& call, absl::Time now) {
  if (core_.config.call_kill_timeout.count() <= 0) return;
  std::weak_ptr<Call> weak = call;
  const int id = slot.id;
  core_.clock.Cancel(call->kill_timer);
  call->kill_timer = core_.clock.Schedule(now + absl::FromChrono(core_.config.call_kill_timeout), [this, weak, id] {
    if (auto c = weak.lock()) OnKillTimer(c, id);
  });
}

void CallRouter::Send(const Dispatch& work) {
  // (Named, not a structured binding: lambdas may not capture those before
  // C++20 as clang 14 implements it.)
  Slot* const slot = work.first;
  const std::shared_ptr<Call>& call = work.second;
  WorkerCall wire;
  wire.call_id = call->id;
  wire.command = call->command;
  // A call that may run again (idempotent, attempts left) keeps its
  // payload for the next attempt: the one copy on the host's path, and only
  // for those calls. Any other call's payload moves on to the worker.
  if (call->attempts_left > 1) {
    wire.args_json = call->args_json;
    wire.attachments = call->attachments;
    wire.metadata = call->metadata;
  } else {
    wire.args_json = std::move(call->args_json);
    wire.attachments = std::move(call->attachments);
    wire.metadata = std::move(call->metadata);
  }
  wire.deadline = call->deadline;
  wire.waiter = call->waiter;
  // `slot` is a raw pointer on purpose: a slot's worker is destroyed only
  // once no call is in flight or being handed to it (the supervisor waits
  // for both), and destroying a worker waits for its RPC callbacks; a
  // callback must never own the worker whose callback it is.
  HandoffScope handoff(*slot);
  auto on_end = [this, slot, call](absl::StatusOr<Reply> result) { OnReply(slot, call, std::move(result)); };
  if (call->stream == nullptr) {
    slot->worker->Execute(std::move(wire), std::move(on_end));
    return;
  }
  // The channel, not the call: a chunk must not keep the call's payload.
  std::shared_ptr<StreamChannel> channel = call->stream;
  StreamHandlers handlers{.on_chunk = [channel](Chunk chunk) { return channel->Push(std::move(chunk)); },
                          .on_end = std::move(on_end)};
  channel->SetControl(slot->worker->ExecuteStream(std::move(wire), std::move(handlers)));
}

void CallRouter::OnReply(Slot* slot, const std::shared_ptr<Call>& call, absl::StatusOr<Reply> result) {
  const bool ok = result.ok();
  // The router maps no Python error to UNAVAILABLE: it means the channel
  // broke, which on a Unix socket means the process is dying.
  const bool transport_failed = absl::IsUnavailable(result.status());
  const absl::Time now = core_.clock.Now();
  // An idempotent call whose worker died runs again, unless its caller
  // already has an answer (deadline) or it is out of attempts or time.
  bool retry = false;
  // Claimed first, delivered last: the books are updated in between, so a
  // caller who has its reply sees it counted in stats(), and a caller told
  // of a broken worker can no longer see it ready or be routed to it.
  bool claimed = false;
  bool limit_reached = false;
  bool unreachable = false;
  bool park = false;
  int slot_id = 0;
  std::string worker_label;  // copied: a retry may dispatch the call again at once
  std::vector<Dispatch> work;
  {
    MutexLock lock(&core_.mu);
    worker_label = call->worker_label;
    retry = transport_failed && call->attempts_left > 1 && now < call->deadline && !core_.closed && !call->finished();
    if (transport_failed && call->attempts > 1) {
      result = absl::Status(result.status().code(),
                            absl::StrCat(result.status().message(), " (attempt ", call->attempts, " of ",
                                         call->attempts + call->attempts_left - 1, "; each attempt's worker died)"));
    }
    // The channel broke before the worker's exit was seen: the caller waits
    // for the exit status or signal (at most until the worker is killed as
    // unreachable, or the call's deadline).
    park = !retry && transport_failed && slot->state != WorkerState::kDead && !call->finished();
    if (park) slot->parked.emplace_back(call, result.status());
    claimed = !retry && !park && call->Claim();
    core_.clock.Cancel(call->timer);
    core_.clock.Cancel(call->kill_timer);
    call->answered = true;
    call->slot = nullptr;
    if (std::exchange(call->abandoned, false)) {
      --slot->abandoned;
      --core_.abandoned;
    }
    --slot->in_flight;
    --core_.in_flight;
    const absl::Duration cpu = ok ? absl::FromChrono(result->python_cpu_time) : absl::ZeroDuration();
    slot->busy += now - call->sent;
    slot->cpu += cpu;
    ++slot->requests;
    slot->last_reply = ++replies_;
    telemetry_.CountReply(ok, retry, !retry && !claimed, now - call->sent, cpu);
    slot_id = slot->id;
    if (transport_failed && slot->state == WorkerState::kReady && slot->fault == Fault::kNone) {
      // gRPC may see the socket close before the exit watcher sees the
      // exit. If the process somehow lives on, it is unreachable: killed
      // after a grace period and replaced all the same.
      slot->fault = Fault::kUnreachable;
      unreachable = true;
    }
    limit_reached = slot->request_limit > 0 && slot->requests >= slot->request_limit &&
                    slot->state == WorkerState::kReady && slot->replacement == Replacement::kNone;
    if (retry) {
      // First in line: it has waited longest. Its deadline timer is re-armed
      // and ends it as a queued call if no worker frees up.
      --call->attempts_left;
      call->answered = false;
      call->queued = true;
      core_.queue.push_front(call);
      ArmDeadline(call, call->deadline);
      telemetry_.CountRetry();
    }
    work = TakeQueuedWork(now);
  }
  if (unreachable) {
    core_.clock.Schedule(now + kUnreachableGrace, [this, slot_id] { workers_.Kill(slot_id, "unreachable"); });
  }
  if (retry) {
    logger()->debug("pool '{}': retrying idempotent call {} ('{}'): its worker {} died{}", core_.name(), call->id,
                    call->command, worker_label, TraceTag(*call));
  } else if (claimed) {
    Deliver(*call, std::move(result));
  } else if (park) {
    logger()->debug("pool '{}': call {} ('{}') waits for the exit status of worker {}{}", core_.name(), call->id,
                    call->command, worker_label, TraceTag(*call));
  } else {
    logger()->debug("pool '{}': dropped the late reply of call {} ('{}') from {}{}", core_.name(), call->id,
                    call->command, worker_label, TraceTag(*call));
  }
  // Recycled at once rather than at the lifecycle manager's next tick: the
  // worker takes no more calls, so every moment until then is lost capacity.
  if (limit_reached) (void)workers_.Recycle(slot_id, "max_requests", 0);
  for (const Dispatch& w : work) Send(w);
}

void CallRouter::ReleaseParked(std::vector<std::pair<std::shared_ptr<Call>, absl::Status>> parked,
                               const std::string& label, const std::string& why) {
  for (auto& [call, status] : parked) {
    // The worker's own abort reason may say it already.
    if (absl::StrContains(status.message(), why)) {
      Complete(*call, std::move(status));
    } else {
      Complete(*call, absl::Status(status.code(), absl::StrCat(status.message(), " (worker ", label, ": ", why, ")")));
    }
  }
}

void CallRouter::OnDeadline(const std::shared_ptr<Call>& call) {
  const absl::Time now = core_.clock.Now();
  absl::Status status;
  {
    MutexLock lock(&core_.mu);
    if (call->finished()) return;
    if (call->queued) {
      core_.queue.erase(std::find(core_.queue.begin(), core_.queue.end(), call));
      call->queued = false;
      (void)NoteLoad(now);
      status = absl::DeadlineExceededError(
          now >= call->deadline
              ? absl::StrCat("pool '", core_.name(), "': command '", call->command, "' reached its deadline (",
                             Ms(call->deadline - call->submitted), ") while queued for a free slot")
              : absl::StrCat("pool '", core_.name(), "': command '", call->command, "' waited ",
                             Ms(now - call->submitted),
                             " in the queue (queue_timeout=", Ms(absl::FromChrono(core_.config.queue_timeout)),
                             ") with all ", core_.in_flight, " slots busy"));
    } else {
      status = absl::DeadlineExceededError(
          absl::StrCat("pool '", core_.name(), "': command '", call->command, "' did not finish within its deadline (",
                       Ms(call->deadline - call->submitted), ") on worker ", call->worker_label,
                       "; it was asked to stop, and what it still sends is discarded"));
    }
  }
  Abandon(call, std::move(status), CancelReason::kDeadlineExceeded);
}

void CallRouter::Abandon(const std::shared_ptr<Call>& call, absl::Status status, CancelReason reason) {
  const absl::Time now = core_.clock.Now();
  Slot* running = nullptr;
  // Keeps the worker while it is told, outside the lock (see Slot::handoffs).
  std::optional<HandoffScope> handoff;
  {
    MutexLock lock(&core_.mu);
    // Claimed under the lock: a reply (which claims under it too) either
    // came first, or comes later and finds the call abandoned.
    if (!call->Claim()) return;
    if (call->queued) {
      core_.queue.erase(std::find(core_.queue.begin(), core_.queue.end(), call));
      call->queued = false;
      core_.clock.Cancel(call->timer);
      (void)NoteLoad(now);
    } else if (call->slot != nullptr && !call->answered) {
      running = call->slot;
      handoff.emplace(*running);
      call->abandoned = true;
      ++running->abandoned;
      ++core_.abandoned;
      core_.clock.Cancel(call->timer);
      ArmKillTimer(*running, call, now);
    }
  }
  const bool cancelled = reason == CancelReason::kCancelled;
  if (cancelled) telemetry_.CountCancelled();
  Deliver(*call, std::move(status));
  if (running == nullptr) return;
  running->worker->Cancel(call->id, reason);
  telemetry_.CountCancelSent();
  Event event = core_.MakeEventUnlocked(EventType::kCallCancelled, running);
  event.reason = cancelled ? "cancelled" : "deadline_exceeded";
  event.command = call->command;
  event.message = absl::StrCat("call ", call->id, " on worker ", running->label,
                               ": its caller gave up; the worker was asked to stop it");
  core_.Emit(std::move(event));
}

void CallRouter::OnKillTimer(const std::shared_ptr<Call>& call, int worker_id) {
  std::string worker_label;
  {
    MutexLock lock(&core_.mu);
    if (call->answered) return;
    worker_label = call->worker_label;
  }
  logger()->warn("pool '{}': command '{}' overran its deadline by call_kill_timeout ({} ms) on worker {}{}",
                 core_.name(), call->command, core_.config.call_kill_timeout.count(), worker_label, TraceTag(*call));
  workers_.Kill(worker_id, "call_kill_timeout");
}

void CallRouter::Complete(Call& call, absl::StatusOr<Reply> result) {
  if (call.Claim()) Deliver(call, std::move(result));
}

void CallRouter::Deliver(Call& call, absl::StatusOr<Reply> result) {
  std::vector<std::unique_ptr<Call::StopCallback>> stops;
  {
    MutexLock lock(&core_.mu);
    stops.swap(call.stop_callbacks);
  }
  // Outside the lock: destroying one waits for it if it runs on another
  // thread (where its cancel finds the call finished and returns).
  stops.clear();
  telemetry_.RecordCompletion(call, result.status(), core_.clock.Now());
  Call::Callback done = std::move(call.done);
  // The callback is the application's code, run on a library thread: an
  // exception from it must change nothing but a log line, and a shutdown
  // from it must not wait for this very thread (LibraryCallbackScope).
  LibraryCallbackScope scope;
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    logger()->error("pool '{}': the completion callback of command '{}' threw: {}{}", core_.name(), call.command,
                    e.what(), TraceTag(call));
  } catch (...) {
    logger()->error("pool '{}': the completion callback of command '{}' threw a non-std exception{}", core_.name(),
                    call.command, TraceTag(call));
  }
}

}  // namespace snakepit::internal
