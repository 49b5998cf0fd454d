// ShmClient: the host's end of one local worker's shared-memory data plane
// (docs/worker-protocol.md, "Shared-memory data plane"): Execute,
// ExecuteStream and Cancel as RpcClient has them, over a ShmChannel instead
// of gRPC. Health, Stats and stack dumps stay on gRPC (RpcClient).
//
// A reader thread ("snakepit-shm-rx") receives the worker's messages and
// runs the callbacks (done, on_chunk, on_end), so callbacks never run two
// at a time for one client. It also fails calls whose rpc_deadline passed
// (within kExpiryTick). A callback may start the next call: a request sent
// from the reader thread goes through a sender thread, because the reader
// must never wait for room in the worker's ring while the worker waits for
// room in the host's.
//
// Callers read too (ReplyPump): a synchronous caller whose waiter takes
// this client's offer reads the worker's ring itself while it waits, so a
// reply wakes only the caller, not the reader thread and then the caller
// (docs/performance.md, scenario 1). One thread reads at a time (the
// lead); the others sleep on the ring's doorbell (ShmChannel::StepAway),
// which the worker rings for a message that comes while nobody reads. The
// reader thread leads while calls only it delivers are pending (async
// calls, streams), else stands by. A caller that reads a message that is
// not its reply hands it to the reader thread and stops reading: it runs
// no other call's callbacks. A caller completes its own call on its own
// thread, after it gave up the lead, so that the completion may send.
//
// Replies are matched to calls by call id; a reply for a call that is no
// longer pending (it expired, or was never sent) is dropped and counted,
// never handed to another call.
//
// Death: after Abort(reason), and when the channel breaks, every pending
// call completes with UNAVAILABLE naming the reason and later calls fail so
// at once. A worker that breaks the format (DATA_LOSS) is logged and
// reported by broken(), which the worker's health check turns into a failed
// probe (and the pool into a replacement).
//
// Threading: every method is thread-safe. The destructor aborts and joins
// both threads; it must not run on the reader thread (a callback must not
// own the worker whose callback it is, as for RpcClient).
#ifndef SNAKEPIT_SRC_WORKER_SHM_CLIENT_H_
#define SNAKEPIT_SRC_WORKER_SHM_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/mutex.h"
#include "grpcpp/support/status.h"
#include "shm/shm_channel.h"
#include "snakepit/v1/worker.pb.h"
#include "worker/reply_polling.h"
#include "worker/reply_waiter.h"
#include "worker/worker.h"

namespace snakepit::internal {

class ShmClient final : public ReplyPump, public std::enable_shared_from_this<ShmClient> {
 public:
  // How late an rpc_deadline may be noticed.
  static constexpr absl::Duration kExpiryTick = absl::Milliseconds(250);
  // A worker that takes no message for this long is hung: the message is
  // given up (its call fails) and the call_kill_timeout deals with it.
  static constexpr absl::Duration kSendTimeout = absl::Seconds(10);

  // `label` prefixes error texts; `reply_poll` is the pool's
  // reply_poll_us (ReplyPolling: how long a synchronous caller may poll for
  // its reply before it sleeps).
  ShmClient(std::unique_ptr<ShmChannel> channel, std::string label, std::int64_t max_message_bytes,
            absl::Duration reply_poll = absl::ZeroDuration());
  ~ShmClient();
  ShmClient(const ShmClient&) = delete;
  ShmClient& operator=(const ShmClient&) = delete;

  // See Worker::Execute, Worker::ExecuteStream and Worker::Cancel.
  void Execute(WorkerCall call, Worker::Done done);
  std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers);
  void Cancel(std::uint64_t call_id, CancelReason reason);

  // Fails every pending and later call with UNAVAILABLE naming `reason`.
  void Abort(const std::string& reason);

  // Why the channel broke without an Abort (the worker broke its format,
  // or it closed); empty while it works or after an Abort.
  std::string broken() const;

  // Replies that came for no pending call (late, after their call expired).
  std::uint64_t late_replies() const { return late_replies_.load(); }

  // ReplyPump: reads on a synchronous caller's thread (see above). Pump
  // returns at once when another thread reads, and gives up the lead it
  // kept since the send when the waiter was filled before it pumped.
  void Pump(std::uint64_t call_id, ReplyWaiter& waiter) override;
  void Interrupt() override { channel_->Interrupt(); }

 private:
  class Gate;
  struct Pending;
  struct Outgoing {
    FrameKind kind;
    std::uint64_t call_id;
    std::string payload;
    std::vector<std::string> sections;
    absl::Time deadline;
  };

  // Sends `request`, its attachments as the message's sections (moved out
  // of it, never serialized into the payload). False when it was not sent
  // (the call has ended).
  bool Start(std::uint64_t call_id, std::unique_ptr<Pending> pending, FrameKind kind,
             snakepit::v1::ExecuteRequest& request, absl::Time rpc_deadline);
  // Sends now, or through the sender thread when on the reader thread.
  // Returns the send's error (always OK when deferred).
  absl::Status SendOrDefer(FrameKind kind, std::uint64_t call_id, std::string payload,
                           std::vector<std::string> sections, absl::Time deadline);
  void GrantCredit(std::uint64_t call_id);
  void Resume(std::uint64_t call_id);

  // The lead: the right to Receive from the channel (one thread at a time).
  bool TryLead();
  void LeaveLead();

  // Reader thread.
  void ReadLoop();
  // Reads as the leader while MustLead(); false once the channel ended.
  bool Lead(absl::Time& next_check);
  bool MustLead();
  // Dispatches the messages callers handed over.
  void DispatchHanded();
  // The channel broke or closed: records why (unless aborted already),
  // closes it and returns the reason. Any thread.
  std::string NoteBroken(const absl::Status& status);
  void Dispatch(Frame frame);
  void OnChunk(std::uint64_t call_id, Frame& frame);
  void OnEnd(std::uint64_t call_id, absl::StatusOr<Reply> result);
  // Delivers the chunks of resumed streams that queued while paused.
  void DeliverResumed();
  // Hands queued chunks (and a queued end) of `call_id` on until its
  // consumer pauses again.
  void Drain(std::uint64_t call_id);
  // Fails the calls whose rpc_deadline is at or before `now`.
  void ExpireOverdue(absl::Time now);
  // Once `next_check` passed: ExpireOverdue, and the next check a tick on.
  void ExpireOnTick(absl::Time& next_check);
  void FailAll(const std::string& reason);
  std::unique_ptr<Pending> Take(std::uint64_t call_id);
  // Ends a call taken out of pending_: its done, or its stream's on_end.
  static void EndCall(Pending& call, absl::StatusOr<Reply> result);
  absl::Status Failure(const grpc::Status& status, const std::string& command);

  // Sender thread.
  void SendLoop();

  const std::string label_;
  const std::int64_t max_message_bytes_;
  std::unique_ptr<ShmChannel> channel_;
  std::atomic<std::uint64_t> late_replies_{0};
  ReplyPolling polling_;

  mutable Mutex mu_;
  std::string abort_reason_ ABSL_GUARDED_BY(mu_);
  std::string broken_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::uint64_t, std::unique_ptr<Pending>> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<std::uint64_t> resumed_ ABSL_GUARDED_BY(mu_);
  // Pending calls that only the reader thread delivers (not pumped).
  int async_pending_ ABSL_GUARDED_BY(mu_) = 0;
  // Messages a pumping caller read for other calls, oldest first.
  std::deque<Frame> handed_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> led_{false};
  // The call whose caller kept the lead from its send to its Pump, or 0.
  std::atomic<std::uint64_t> lead_kept_for_{0};
  absl::Time next_expiry_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();

  // The sender thread's queue, under a mutex of its own: a thread waiting
  // in Mutex::Await is woken by every release of that mutex, and mu_ is
  // released several times per call.
  Mutex out_mu_;
  CondVar out_cv_;
  std::deque<Outgoing> outgoing_ ABSL_GUARDED_BY(out_mu_);
  bool stopping_ ABSL_GUARDED_BY(out_mu_) = false;

  std::thread reader_;
  std::thread sender_;
  std::thread::id reader_id_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_SHM_CLIENT_H_
