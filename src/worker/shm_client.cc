#include "worker/shm_client.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "snakepit/logging.h"
#include "worker/reply_codec.h"

namespace snakepit::internal {
namespace {

// A result's attachments travel as its message's sections (shm_channel.h):
// they are moved in after the attachments the payload itself holds (none,
// from this library's worker).
void AppendSections(snakepit::v1::Result& result, Frame& frame) {
  for (std::string& section : frame.sections) result.add_attachments(std::move(section));
  frame.sections.clear();
}

// `response` with `frame`'s sections as its result's attachments; a
// response holding an error has no result, and gets none.
snakepit::v1::ExecuteResponse& WithSections(snakepit::v1::ExecuteResponse& response, Frame& frame) {
  if (!response.has_error()) AppendSections(*response.mutable_result(), frame);
  return response;
}

}  // namespace

// One call in flight: a unary call has `done`; a stream has `handlers`,
// its gate, and what arrived while its consumer paused.
struct ShmClient::Pending {
  std::string command;
  absl::Time rpc_deadline = absl::InfiniteFuture();
  Worker::Done done;
  bool pumped = false;  // its caller reads the reply (ReplyPump)
  bool stream = false;
  StreamHandlers handlers;
  std::shared_ptr<Gate> gate;
  bool paused = false;
  std::deque<Chunk> queued;
  std::optional<absl::StatusOr<Reply>> queued_end;
  absl::Status bad;  // a chunk that did not decode: the stream ends with it
};

// What the pool holds to resume a paused stream. Outlives the stream: a
// Resume after the end is a no-op.
class ShmClient::Gate final : public StreamControl {
 public:
  Gate(ShmClient* client, std::uint64_t call_id) : client_(client), call_id_(call_id) {}
  void Resume() override {
    MutexLock lock(&mu_);
    if (client_ != nullptr) client_->Resume(call_id_);
  }
  void Detach() {
    MutexLock lock(&mu_);
    client_ = nullptr;
  }

 private:
  Mutex mu_;
  ShmClient* client_ ABSL_GUARDED_BY(mu_);
  const std::uint64_t call_id_;
};

void ShmClient::EndCall(Pending& call, absl::StatusOr<Reply> result) {
  if (call.stream) {
    call.gate->Detach();  // a Resume after the end is a no-op
    call.handlers.on_end(std::move(result));
  } else {
    call.done(std::move(result));
  }
}

ShmClient::ShmClient(std::unique_ptr<ShmChannel> channel, std::string label, std::int64_t max_message_bytes,
                     absl::Duration reply_poll)
    : label_(std::move(label)),
      max_message_bytes_(max_message_bytes),
      channel_(std::move(channel)),
      polling_(reply_poll, ReplyPolling::ProcessCpus(), ReplyPolling::ProcessLoad()) {
  reader_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "snakepit-shm-rx");
    ReadLoop();
  });
  reader_id_ = reader_.get_id();
  sender_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "snakepit-shm-tx");
    SendLoop();
  });
}

ShmClient::~ShmClient() {
  Abort("the worker's client was destroyed");
  {
    MutexLock lock(&out_mu_);
    stopping_ = true;
  }
  out_cv_.SignalAll();
  if (std::this_thread::get_id() == reader_id_) {
    reader_.detach();  // see the header: not expected; never join oneself
  } else {
    reader_.join();
  }
  sender_.join();
}

void ShmClient::Abort(const std::string& reason) {
  {
    MutexLock lock(&mu_);
    if (abort_reason_.empty()) abort_reason_ = reason;
  }
  // The reader thread wakes (CANCELLED) and fails what is pending.
  channel_->Close();
}

std::string ShmClient::broken() const {
  MutexLock lock(&mu_);
  return broken_;
}

absl::Status ShmClient::Failure(const grpc::Status& status, const std::string& command) {
  std::string abort_reason;
  {
    MutexLock lock(&mu_);
    abort_reason = abort_reason_;
  }
  return FromRpcStatus(status, label_, command, abort_reason, max_message_bytes_);
}

void ShmClient::Execute(WorkerCall call, Worker::Done done) {
  auto pending = std::make_unique<Pending>();
  pending->command = call.command;
  pending->done = std::move(done);
  const bool pumped = call.waiter != nullptr && call.waiter->OfferPump(shared_from_this(), call.call_id);
  pending->pumped = pumped;
  snakepit::v1::ExecuteRequest request;
  EncodeRequest(call, request);
  if (Start(call.call_id, std::move(pending), FrameKind::kExecute, request, call.rpc_deadline) && pumped && TryLead()) {
    // Kept from now until the caller's Pump, which follows at once: a
    // reply cannot come while nobody reads (that would wake the reader
    // thread), even when the caller is slow to get there.
    channel_->StepBack();
    lead_kept_for_.store(call.call_id, std::memory_order_relaxed);
  }
}

std::shared_ptr<StreamControl> ShmClient::ExecuteStream(WorkerCall call, StreamHandlers handlers) {
  auto pending = std::make_unique<Pending>();
  pending->command = call.command;
  pending->stream = true;
  pending->handlers = std::move(handlers);
  pending->gate = std::make_shared<Gate>(this, call.call_id);
  std::shared_ptr<StreamControl> gate = pending->gate;
  snakepit::v1::ExecuteRequest request;
  EncodeRequest(call, request);
  Start(call.call_id, std::move(pending), FrameKind::kExecuteStream, request, call.rpc_deadline);
  return gate;
}

bool ShmClient::Start(std::uint64_t call_id, std::unique_ptr<Pending> pending, FrameKind kind,
                      snakepit::v1::ExecuteRequest& request, absl::Time rpc_deadline) {
  pending->rpc_deadline = rpc_deadline;
  const std::string command = pending->command;
  auto& attachments = *request.mutable_attachments();
  std::vector<std::string> sections(std::make_move_iterator(attachments.begin()),
                                    std::make_move_iterator(attachments.end()));
  request.clear_attachments();
  std::string payload = request.SerializeAsString();
  std::size_t bytes = payload.size();
  for (const std::string& section : sections) bytes += section.size();
  const std::size_t size = ShmChannel::MessageBytes(bytes, sections.size());
  absl::Status refused;  // OK: taken
  if (size > channel_->max_payload()) {
    refused = absl::ResourceExhaustedError(absl::StrCat(label_, ": command '", command, "': the request is ", size,
                                                        " bytes, over the limit of ", max_message_bytes_,
                                                        " (max_message_bytes)"));
  } else if (sections.size() > channel_->max_sections()) {
    refused = absl::InvalidArgumentError(absl::StrCat(label_, ": command '", command, "': ", sections.size(),
                                                      " attachments, over the shared-memory transport's limit of ",
                                                      channel_->max_sections()));
  }
  {
    MutexLock lock(&mu_);
    if (refused.ok() && !abort_reason_.empty()) {
      refused = FromRpcStatus(grpc::Status::CANCELLED, label_, command, abort_reason_, max_message_bytes_);
    } else if (refused.ok() && pending_.contains(call_id)) {
      refused = absl::InternalError(absl::StrCat(label_, ": call id ", call_id, " is in flight already"));
    }
    if (refused.ok()) {
      next_expiry_ = std::min(next_expiry_, rpc_deadline);
      if (!pending->pumped) ++async_pending_;
      pending_.emplace(call_id, std::move(pending));
      polling_.Sent();
    }
  }
  if (!refused.ok()) {
    EndCall(*pending, std::move(refused));
    return false;
  }
  absl::Status sent = SendOrDefer(kind, call_id, std::move(payload), std::move(sections),
                                  std::min(rpc_deadline, absl::Now() + kSendTimeout));
  if (sent.ok()) return true;
  // Not sent: unless the reader thread failed it meanwhile, it fails here.
  std::unique_ptr<Pending> unsent = Take(call_id);
  if (unsent == nullptr) return false;
  const grpc::Status status(
      absl::IsDeadlineExceeded(sent) ? grpc::StatusCode::DEADLINE_EXCEEDED : grpc::StatusCode::UNAVAILABLE,
      std::string(sent.message()));
  absl::Status why = Failure(status, command);
  EndCall(*unsent, std::move(why));
  return false;
}

absl::Status ShmClient::SendOrDefer(FrameKind kind, std::uint64_t call_id, std::string payload,
                                    std::vector<std::string> sections, absl::Time deadline) {
  const auto bytes = [](const std::string& s) { return std::as_bytes(std::span(s)); };
  if (std::this_thread::get_id() != reader_id_) {
    return channel_->Send(kind, call_id, {bytes(payload)}, sections, deadline);
  }
  // On the reader thread: a message that fits one record may go now if
  // there is room (it cannot be cut short); anything else waits its turn
  // on the sender thread.
  if (sections.empty() && payload.size() + 64 <= channel_->fragment_bytes()) {
    absl::Status now = channel_->Send(kind, call_id, {bytes(payload)}, absl::InfinitePast());
    if (!absl::IsDeadlineExceeded(now)) return now;
  }
  {
    MutexLock lock(&out_mu_);
    outgoing_.push_back(Outgoing{kind, call_id, std::move(payload), std::move(sections), deadline});
  }
  out_cv_.Signal();
  return absl::OkStatus();
}

void ShmClient::SendLoop() {
  while (true) {
    Outgoing next;
    {
      MutexLock lock(&out_mu_);
      // Wakes every second only to look again (nothing waits for ever).
      while (outgoing_.empty() && !stopping_) out_cv_.WaitWithTimeout(&out_mu_, absl::Seconds(1));
      if (outgoing_.empty()) return;
      next = std::move(outgoing_.front());
      outgoing_.pop_front();
    }
    absl::Status sent =
        channel_->Send(next.kind, next.call_id, {std::as_bytes(std::span(next.payload))}, next.sections, next.deadline);
    if (sent.ok() || (next.kind != FrameKind::kExecute && next.kind != FrameKind::kExecuteStream)) continue;
    // A call that could not be sent fails like one sent directly (Start).
    std::unique_ptr<Pending> unsent = Take(next.call_id);
    if (unsent == nullptr) continue;
    absl::Status why =
        Failure(grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(sent.message())), unsent->command);
    EndCall(*unsent, std::move(why));
  }
}

void ShmClient::Cancel(std::uint64_t call_id, CancelReason reason) {
  snakepit::v1::CancelRequest request;
  request.set_call_id(call_id);
  request.set_reason(reason == CancelReason::kDeadlineExceeded ? snakepit::v1::CancelRequest::DEADLINE_EXCEEDED
                                                               : snakepit::v1::CancelRequest::CANCELLED);
  // Fire and forget, as the Cancel RPC: a worker that does not take it is
  // hung, and call_kill_timeout deals with it.
  (void)SendOrDefer(FrameKind::kCancel, call_id, request.SerializeAsString(), {}, absl::Now() + kSendTimeout);
}

void ShmClient::GrantCredit(std::uint64_t call_id) {
  const std::uint32_t one = 1;
  std::string payload(sizeof one, '\0');
  std::memcpy(payload.data(), &one, sizeof one);
  (void)SendOrDefer(FrameKind::kCredit, call_id, std::move(payload), {}, absl::Now() + kSendTimeout);
}

void ShmClient::Resume(std::uint64_t call_id) {
  bool credit = false;
  {
    MutexLock lock(&mu_);
    auto found = pending_.find(call_id);
    if (found == pending_.end() || !found->second->paused) return;
    Pending& stream = *found->second;
    stream.paused = false;
    if (stream.queued.empty() && !stream.queued_end) {
      credit = true;  // the chunk that paused it is taken now
    } else {
      resumed_.push_back(call_id);
    }
  }
  if (credit) {
    GrantCredit(call_id);
  } else {
    // The reader thread hands the queue on: it is in Receive, or on the
    // doorbell while a caller reads.
    channel_->Interrupt();
    channel_->WakeStandIns();
  }
}

std::unique_ptr<ShmClient::Pending> ShmClient::Take(std::uint64_t call_id) {
  MutexLock lock(&mu_);
  auto found = pending_.find(call_id);
  if (found == pending_.end()) return nullptr;
  std::unique_ptr<Pending> pending = std::move(found->second);
  pending_.erase(found);
  polling_.Answered();
  if (!pending->pumped) --async_pending_;
  return pending;
}

// Caller threads -----------------------------------------------------------

void ShmClient::Pump(std::uint64_t call_id, ReplyWaiter& waiter) {
  // Only this thread sets call_id here (call ids are unique), and only
  // while it leads.
  if (lead_kept_for_.load(std::memory_order_relaxed) == call_id) {
    lead_kept_for_.store(0, std::memory_order_relaxed);
  } else if (TryLead()) {
    channel_->StepBack();
  } else {
    return;  // another thread reads: it delivers the reply
  }
  std::optional<Frame> mine;
  bool handed = false;
  while (waiter.pumping()) {
    // The deadline only bounds the wait: a Fill from elsewhere interrupts.
    const absl::Time now = absl::Now();
    const absl::Duration poll = polling_.BeginPoll();
    absl::StatusOr<Frame> frame = channel_->Receive(now + kExpiryTick, poll, [this] { return polling_.StillFits(); });
    polling_.EndPoll(poll, absl::Now() - now);
    if (frame.ok()) {
      if (frame->call_id == call_id && (frame->kind == FrameKind::kReply || frame->kind == FrameKind::kFail)) {
        mine = *std::move(frame);
      } else {
        MutexLock lock(&mu_);
        handed_.push_back(*std::move(frame));
        handed = true;
      }
      break;
    }
    if (absl::IsAborted(frame.status()) || absl::IsDeadlineExceeded(frame.status())) continue;
    NoteBroken(frame.status());  // the reader thread fails what is pending
    break;
  }
  LeaveLead();
  if (handed) channel_->WakeStandIns();
  if (!mine) return;
  // Filled on this thread: no interrupt, no wake-up.
  waiter.StopPumping();
  Dispatch(*std::move(mine));
}

// Reader thread --------------------------------------------------------------

bool ShmClient::TryLead() { return !led_.exchange(true, std::memory_order_acquire); }

void ShmClient::LeaveLead() {
  led_.store(false, std::memory_order_release);
  // After the lead is free: a stand-in this rings finds it free. Rings at
  // once for a message already there.
  channel_->StepAway();
}

void ShmClient::ReadLoop() {
  // Overdue calls are looked for once a tick, not after every message.
  absl::Time next_check = absl::Now() + kExpiryTick;
  std::uint32_t seen = channel_->doorbell();
  bool rung = true;  // looks once at the start
  while (true) {
    // Read before looking for the lead: a ring after this ends the wait.
    const std::uint32_t bell = channel_->doorbell();
    rung = rung || bell != seen;
    seen = bell;
    DispatchHanded();
    DeliverResumed();
    // Leads when there is something to read for it; else a caller may.
    if ((rung || MustLead()) && TryLead()) {
      rung = false;
      if (!Lead(next_check)) return;
    } else if (channel_->closed()) {
      // The caller that reads sees the end at once and gives up the lead.
      absl::SleepFor(absl::Microseconds(100));
    } else {
      channel_->AwaitDoorbell(bell, next_check);
    }
    ExpireOnTick(next_check);
  }
}

bool ShmClient::Lead(absl::Time& next_check) {
  channel_->StepBack();
  // Handed over before this thread led: older than anything it reads.
  DispatchHanded();
  while (true) {
    // Waits while it must lead; else only takes what is there.
    const bool must = MustLead();
    absl::StatusOr<Frame> frame = channel_->Receive(must ? next_check : absl::InfinitePast());
    if (frame.ok()) {
      Dispatch(*std::move(frame));
    } else if (absl::IsAborted(frame.status())) {
      DeliverResumed();
    } else if (absl::IsDeadlineExceeded(frame.status())) {
      if (!must) break;
    } else {
      FailAll(NoteBroken(frame.status()));
      return false;  // keeps the lead: nothing is left to read
    }
    ExpireOnTick(next_check);
  }
  LeaveLead();
  return true;
}

void ShmClient::ExpireOnTick(absl::Time& next_check) {
  const absl::Time now = absl::Now();
  if (now < next_check) return;
  ExpireOverdue(now);
  next_check = now + kExpiryTick;
}

bool ShmClient::MustLead() {
  MutexLock lock(&mu_);
  return async_pending_ > 0 || !handed_.empty();
}

void ShmClient::DispatchHanded() {
  while (true) {
    Frame frame;
    {
      MutexLock lock(&mu_);
      if (handed_.empty()) return;
      frame = std::move(handed_.front());
      handed_.pop_front();
    }
    Dispatch(std::move(frame));
  }
}

std::string ShmClient::NoteBroken(const absl::Status& status) {
  std::string reason;
  bool first = false;
  {
    MutexLock lock(&mu_);
    if (abort_reason_.empty()) {
      abort_reason_ = absl::StrCat("its shared-memory data plane broke: ", status.message());
      broken_ = abort_reason_;
      first = true;
    }
    reason = abort_reason_;
  }
  channel_->Close();
  if (first && absl::IsDataLoss(status)) logger()->warn("{}: {}", label_, reason);
  return reason;
}

void ShmClient::Dispatch(Frame frame) {
  const std::uint64_t call_id = frame.call_id;
  switch (frame.kind) {
    case FrameKind::kChunk:
      OnChunk(call_id, frame);
      return;
    case FrameKind::kEnd:
    case FrameKind::kReply:
    case FrameKind::kFail:
      break;
    default:
      logger()->warn("{}: ignored a shared-memory message of kind {} from the worker", label_,
                     static_cast<unsigned>(frame.kind));
      return;
  }
  std::string command;
  bool stream = false;
  {
    MutexLock lock(&mu_);
    auto found = pending_.find(call_id);
    if (found == pending_.end()) {
      late_replies_.fetch_add(1);  // its call expired: never anyone else's
      return;
    }
    command = found->second->command;
    stream = found->second->stream;
  }
  absl::StatusOr<Reply> result;
  if (frame.kind == FrameKind::kFail) {
    std::uint32_t code = grpc::StatusCode::UNKNOWN;
    std::string text;
    if (frame.size >= sizeof code) {
      std::memcpy(&code, frame.data.get(), sizeof code);
      text.assign(reinterpret_cast<const char*>(frame.data.get()) + sizeof code, frame.size - sizeof code);
    }
    if (code == 0 || code > grpc::StatusCode::UNAUTHENTICATED) code = grpc::StatusCode::UNKNOWN;
    result = Failure(grpc::Status(static_cast<grpc::StatusCode>(code), text), command);
  } else if (frame.kind == FrameKind::kReply) {
    snakepit::v1::ExecuteResponse response;
    result = response.ParseFromArray(frame.data.get(), static_cast<int>(frame.size))
                 ? DecodeResponse(WithSections(response, frame), label_, command)
                 : absl::InternalError(absl::StrCat(label_, ": command '", command, "': unparsable reply"));
  } else {  // kEnd
    snakepit::v1::StreamMessage message;
    if (!message.ParseFromArray(frame.data.get(), static_cast<int>(frame.size)) || !message.has_end()) {
      result = absl::InternalError(absl::StrCat(label_, ": command '", command, "': unparsable end of stream"));
    } else {
      snakepit::v1::ExecuteResponse& end = *message.mutable_end();
      // As rpc_stream.cc: a generator that finished carries no result.
      if (!end.has_error() && end.result().json().empty()) end.mutable_result()->set_json("null");
      result = DecodeResponse(WithSections(end, frame), label_, command);
    }
  }
  if (stream) {
    OnEnd(call_id, std::move(result));
    return;
  }
  std::unique_ptr<Pending> call = Take(call_id);
  if (call == nullptr) return;
  EndCall(*call, std::move(result));
}

void ShmClient::OnChunk(std::uint64_t call_id, Frame& frame) {
  snakepit::v1::StreamMessage message;
  const bool parsed = message.ParseFromArray(frame.data.get(), static_cast<int>(frame.size)) && message.has_chunk();
  std::string command;
  {
    MutexLock lock(&mu_);
    auto found = pending_.find(call_id);
    if (found == pending_.end() || !found->second->stream) {
      late_replies_.fetch_add(1);
      return;
    }
    command = found->second->command;
  }
  if (parsed) AppendSections(*message.mutable_chunk(), frame);
  absl::StatusOr<Chunk> chunk = parsed ? DecodeChunk(*message.mutable_chunk(), label_, command)
                                       : absl::StatusOr<Chunk>(absl::InternalError(absl::StrCat(
                                             label_, ": command '", command, "': unparsable stream chunk")));
  bool deliver = false;
  {
    MutexLock lock(&mu_);
    auto found = pending_.find(call_id);
    if (found == pending_.end()) return;
    Pending& stream = *found->second;
    if (!stream.bad.ok()) {
      // After a bad chunk the rest is read and dropped, to the end.
    } else if (!chunk.ok()) {
      stream.bad = chunk.status();
    } else if (stream.paused || !stream.queued.empty()) {
      stream.queued.push_back(*std::move(chunk));
    } else {
      stream.queued.push_back(*std::move(chunk));
      deliver = true;
    }
  }
  if (!chunk.ok()) {
    Cancel(call_id, CancelReason::kCancelled);  // as gRPC's TryCancel
    GrantCredit(call_id);
    return;
  }
  if (deliver) Drain(call_id);
}

void ShmClient::OnEnd(std::uint64_t call_id, absl::StatusOr<Reply> result) {
  {
    MutexLock lock(&mu_);
    auto found = pending_.find(call_id);
    if (found == pending_.end()) return;
    Pending& stream = *found->second;
    if (!stream.bad.ok()) result = stream.bad;
    if (stream.paused || !stream.queued.empty()) {
      stream.queued_end = std::move(result);  // after the queued chunks
      return;
    }
  }
  std::unique_ptr<Pending> stream = Take(call_id);
  if (stream == nullptr) return;
  EndCall(*stream, std::move(result));
}

void ShmClient::Drain(std::uint64_t call_id) {
  while (true) {
    std::optional<Chunk> chunk;
    std::function<bool(Chunk)>* on_chunk = nullptr;
    {
      MutexLock lock(&mu_);
      auto found = pending_.find(call_id);
      if (found == pending_.end()) return;
      Pending& stream = *found->second;
      if (stream.paused) return;
      if (stream.queued.empty()) {
        if (!stream.queued_end) return;
        break;  // the end, after the last chunk
      }
      chunk = std::move(stream.queued.front());
      stream.queued.pop_front();
      // Stays valid: only this thread erases the record (Take), except
      // Start's and SendLoop's failures, which come before any chunk.
      on_chunk = &stream.handlers.on_chunk;
    }
    const bool more = (*on_chunk)(*std::move(chunk));
    {
      MutexLock lock(&mu_);
      auto found = pending_.find(call_id);
      if (found != pending_.end() && !more) found->second->paused = true;
    }
    if (!more) return;  // its credit comes with Resume
    GrantCredit(call_id);
  }
  std::unique_ptr<Pending> stream = Take(call_id);
  if (stream == nullptr) return;
  EndCall(*stream, *std::move(stream->queued_end));
}

void ShmClient::DeliverResumed() {
  std::deque<std::uint64_t> resumed;
  {
    MutexLock lock(&mu_);
    resumed.swap(resumed_);
  }
  for (std::uint64_t call_id : resumed) {
    // The chunk whose on_chunk paused the stream is taken now: credit.
    GrantCredit(call_id);
    Drain(call_id);
  }
}

void ShmClient::ExpireOverdue(absl::Time now) {
  std::vector<std::unique_ptr<Pending>> overdue;
  {
    MutexLock lock(&mu_);
    if (now < next_expiry_) return;
    next_expiry_ = absl::InfiniteFuture();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second->rpc_deadline <= now) {
        if (!it->second->pumped) --async_pending_;
        overdue.push_back(std::move(it->second));
        it = pending_.erase(it);
        polling_.Answered();
      } else {
        next_expiry_ = std::min(next_expiry_, it->second->rpc_deadline);
        ++it;
      }
    }
  }
  for (auto& call : overdue) {
    absl::Status why = Failure(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"), call->command);
    EndCall(*call, std::move(why));
  }
}

void ShmClient::FailAll(const std::string& reason) {
  std::unordered_map<std::uint64_t, std::unique_ptr<Pending>> failed;
  {
    MutexLock lock(&mu_);
    failed.swap(pending_);
    polling_.Answered(static_cast<int>(failed.size()));
    async_pending_ = 0;
  }
  for (auto& [id, call] : failed) {
    absl::Status why = FromRpcStatus(grpc::Status::CANCELLED, label_, call->command, reason, max_message_bytes_);
    EndCall(*call, std::move(why));
  }
}

}  // namespace snakepit::internal
