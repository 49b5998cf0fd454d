// In-memory stand-ins for the pool's policy tests: a clock the test moves
// by hand, and workers whose calls, starts, crashes and health the test
// decides. With them the router, the supervisor and the lifecycle manager
// run their real code in milliseconds, without Python. (The end-to-end
// tests run the same code with real Python workers.)
#ifndef SNAKEPIT_TESTS_CPP_FAKE_POOL_H_
#define SNAKEPIT_TESTS_CPP_FAKE_POOL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "pool/pool.h"
#include "process/child_process.h"
#include "worker/worker.h"

namespace snakepit::internal::testing {

// Time moves only in Advance(), which runs the timers that fall due, in
// time order, on the calling thread.
class FakeClock final : public Clock {
 public:
  absl::Time Now() const override {
    MutexLock lock(&mu_);
    return now_;
  }
  TimerHandle Schedule(absl::Time when, std::function<void()> fn) override {
    if (when == absl::InfiniteFuture()) return {};
    MutexLock lock(&mu_);
    const TimerHandle handle{when, next_id_++};
    timers_.emplace(std::make_pair(when, handle.id), std::move(fn));
    return handle;
  }
  void Cancel(const TimerHandle& handle) override {
    MutexLock lock(&mu_);
    timers_.erase({handle.when, handle.id});
  }
  // Polls `cond` every real millisecond until it holds or fake time reaches
  // `deadline` (moved by another thread's Advance).
  bool AwaitUntil(Mutex* mu, const Condition& cond, absl::Time deadline) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    while (true) {
      if (cond.Eval()) return true;
      if (Now() >= deadline) return false;
      mu->AwaitWithTimeout(cond, absl::Milliseconds(1));
    }
  }
  void Advance(absl::Duration d) {
    absl::Time target;
    {
      MutexLock lock(&mu_);
      target = now_ + d;
    }
    while (true) {
      std::function<void()> fn;
      {
        MutexLock lock(&mu_);
        auto first = timers_.begin();
        if (first == timers_.end() || first->first.first > target) {
          now_ = target;
          return;
        }
        now_ = std::max(now_, first->first.first);
        fn = std::move(first->second);
        timers_.erase(first);
      }
      fn();
    }
  }
  int pending_timers() const {
    MutexLock lock(&mu_);
    return static_cast<int>(timers_.size());
  }

 private:
  mutable Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'000'000);
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::pair<absl::Time, std::uint64_t>, std::function<void()>> timers_ ABSL_GUARDED_BY(mu_);
};

// A fake stream's flow control: counts the host's Resume() calls.
class FakeStreamControl final : public StreamControl {
 public:
  void Resume() override { resumes_.fetch_add(1); }
  int resumes() const { return resumes_.load(); }

 private:
  std::atomic<int> resumes_{0};
};

// One worker whose calls wait until the test answers them. Kill() and
// Crash() report the exit from a thread of their own, as a real worker's
// watcher does. Streams wait for the test too: it sends their chunks and
// ends them; Cancel requests are recorded, nothing more.
class FakeWorker final : public Worker {
 public:
  FakeWorker(int id, int capacity, absl::Status start_result, ExitCallback on_exit)
      : id_(id), capacity_(capacity), start_result_(std::move(start_result)), on_exit_(std::move(on_exit)) {}
  ~FakeWorker() override {
    if (exiter_.joinable()) exiter_.join();
  }

  absl::Status Start(absl::Time) override { return start_result_; }
  void Stop(absl::Duration) override {
    if (!Exit(ExitInfo{.exit_code = 0})) return;
    FailAll("stopped");
    on_exit_(ExitInfo{.exit_code = 0});
  }
  void Execute(WorkerCall call, Done done) override {
    {
      MutexLock lock(&mu_);
      if (!exited_) {
        pending_.push_back({std::move(call), std::move(done)});
        return;
      }
    }
    done(absl::UnavailableError("worker is gone"));
  }
  std::shared_ptr<StreamControl> ExecuteStream(WorkerCall call, StreamHandlers handlers) override {
    auto control = std::make_shared<FakeStreamControl>();
    {
      MutexLock lock(&mu_);
      if (!exited_) {
        const std::uint64_t id = call.call_id;
        streams_.emplace(id, OpenStream{std::move(call), std::move(handlers), control});
        return control;
      }
    }
    handlers.on_end(absl::UnavailableError("worker is gone"));
    return control;
  }
  void Cancel(std::uint64_t call_id, CancelReason reason) override {
    MutexLock lock(&mu_);
    cancels_.emplace_back(call_id, reason);
  }
  void Kill() override { Crash(ExitInfo{.signal = 9}); }
  std::string DumpStacks(absl::Time) override { return "Thread 0x1 (most recent call first):\n  File \"fake.py\""; }
  void CheckHealth(absl::Time, std::function<void(absl::Status)> done) override {
    MutexLock lock(&mu_);
    health_probes_.push_back(std::move(done));
  }
  void Diagnostics(absl::Time, std::function<void(absl::StatusOr<nlohmann::json>)> done) override {
    done(nlohmann::json::object());
  }
  int capacity() const override { return capacity_; }
  WorkerMetadata metadata() const override {
    WorkerMetadata m;
    m.id = id_;
    m.pid = 10'000 + id_;
    m.label = "fake-" + std::to_string(id_);
    return m;
  }

  // The process "exits": calls in flight fail with UNAVAILABLE, then the
  // pool hears of the exit, from another thread.
  void Crash(ExitInfo info) {
    if (!Exit(info)) return;
    exiter_ = std::thread([this, info] {
      FailAll("worker died");
      on_exit_(info);
    });
  }
  // Answers the oldest pending call with its command name; false if none.
  bool Reply() {
    std::optional<std::pair<WorkerCall, Done>> p = TakeOldest();
    if (!p) return false;
    p->second(snakepit::Reply{nlohmann::json(p->first.command), {}});
    return true;
  }
  // Answers the oldest pending call with `reply`, moved as a real worker's
  // decoded reply is; false if none.
  bool ReplyWith(snakepit::Reply reply) {
    std::optional<std::pair<WorkerCall, Done>> p = TakeOldest();
    if (!p) return false;
    p->second(std::move(reply));
    return true;
  }
  // Answers the oldest pending call with `error`, as a broken channel
  // would, without exiting; false if none.
  bool Fail(absl::Status error) {
    std::optional<std::pair<WorkerCall, Done>> p = TakeOldest();
    if (!p) return false;
    p->second(std::move(error));
    return true;
  }
  // Where the attachments of the oldest pending call (else of the oldest
  // open stream) keep their bytes: a test compares them with its own
  // buffers' to prove that the host moved them instead of copying.
  std::vector<const char*> attachment_data() const {
    MutexLock lock(&mu_);
    const WorkerCall* call = !pending_.empty()   ? &pending_.front().first
                             : !streams_.empty() ? &streams_.begin()->second.call
                                                 : nullptr;
    std::vector<const char*> data;
    if (call != nullptr) {
      for (const std::string& a : call->attachments) data.push_back(a.data());
    }
    return data;
  }
  int pending() const {
    MutexLock lock(&mu_);
    return static_cast<int>(pending_.size());
  }
  std::vector<std::string> pending_commands() const {
    MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& p : pending_) out.push_back(p.first.command);
    return out;
  }
  // Ids of the streams open on this worker, oldest first.
  std::vector<std::uint64_t> streams() const {
    MutexLock lock(&mu_);
    std::vector<std::uint64_t> ids;
    for (const auto& [id, stream] : streams_) ids.push_back(id);
    return ids;
  }
  // Sends a chunk on stream `id`; returns what the host answered (true:
  // read on, false: paused until a Resume).
  bool SendChunk(std::uint64_t id, nlohmann::json data) {
    std::function<bool(Chunk)> on_chunk;
    {
      MutexLock lock(&mu_);
      on_chunk = streams_.at(id).handlers.on_chunk;
    }
    return on_chunk(Chunk{std::move(data), {}});
  }
  // The host's resumes of stream `id` so far.
  int Resumes(std::uint64_t id) const {
    MutexLock lock(&mu_);
    return streams_.at(id).control->resumes();
  }
  // Ends stream `id` with `status` (OK: the generator finished).
  void EndStream(std::uint64_t id, absl::Status status = absl::OkStatus()) {
    OpenStream stream;
    {
      MutexLock lock(&mu_);
      stream = std::move(streams_.at(id));
      streams_.erase(id);
    }
    if (status.ok()) {
      stream.handlers.on_end(snakepit::Reply{});
    } else {
      stream.handlers.on_end(std::move(status));
    }
  }
  // The Cancel requests received: call id and reason.
  std::vector<std::pair<std::uint64_t, CancelReason>> cancels() const {
    MutexLock lock(&mu_);
    return cancels_;
  }
  // Id of the oldest pending unary call (0 if none).
  std::uint64_t oldest_call() const {
    MutexLock lock(&mu_);
    return pending_.empty() ? 0 : pending_.front().first.call_id;
  }

  // Answers the oldest health probe; false if none.
  bool AnswerHealth(absl::Status status) {
    std::function<void(absl::Status)> done;
    {
      MutexLock lock(&mu_);
      if (health_probes_.empty()) return false;
      done = std::move(health_probes_.front());
      health_probes_.pop_front();
    }
    done(std::move(status));
    return true;
  }
  bool exited() const {
    MutexLock lock(&mu_);
    return exited_;
  }
  int id() const { return id_; }

 private:
  std::optional<std::pair<WorkerCall, Done>> TakeOldest() {
    MutexLock lock(&mu_);
    if (pending_.empty()) return std::nullopt;
    std::pair<WorkerCall, Done> p = std::move(pending_.front());
    pending_.pop_front();
    return p;
  }
  bool Exit(const ExitInfo&) {
    MutexLock lock(&mu_);
    return !std::exchange(exited_, true);
  }
  void FailAll(const std::string& why) {
    while (true) {
      std::pair<WorkerCall, Done> p;
      {
        MutexLock lock(&mu_);
        if (pending_.empty()) break;
        p = std::move(pending_.front());
        pending_.pop_front();
      }
      p.second(absl::UnavailableError(why));
    }
    std::deque<std::function<void(absl::Status)>> probes;
    std::map<std::uint64_t, OpenStream> streams;
    {
      MutexLock lock(&mu_);
      probes.swap(health_probes_);
      streams.swap(streams_);
    }
    for (auto& done : probes) done(absl::UnavailableError(why));
    for (auto& [id, stream] : streams) stream.handlers.on_end(absl::UnavailableError(why));
  }

  struct OpenStream {
    WorkerCall call;
    StreamHandlers handlers;
    std::shared_ptr<FakeStreamControl> control;
  };

  const int id_;
  const int capacity_;
  const absl::Status start_result_;
  const ExitCallback on_exit_;
  mutable Mutex mu_;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::pair<WorkerCall, Done>> pending_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void(absl::Status)>> health_probes_ ABSL_GUARDED_BY(mu_);
  std::map<std::uint64_t, OpenStream> streams_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::uint64_t, CancelReason>> cancels_ ABSL_GUARDED_BY(mu_);
  std::thread exiter_;
};

// The workers a pool made, by id, and the outcome of the starts to come.
class FakeFleet {
 public:
  explicit FakeFleet(int capacity = 1) : capacity_(capacity) {}

  Pool::WorkerFactory Factory() {
    return [this](Profile, int id, Worker::ExitCallback on_exit) {
      absl::Status start;
      {
        MutexLock lock(&mu_);
        if (!start_failures_.empty()) {
          start = start_failures_.front();
          start_failures_.pop_front();
        }
      }
      // Exits are recorded here too: a worker is destroyed soon after its
      // exit, so tests ask the fleet, not the worker.
      auto record_exit = [this, id, on_exit = std::move(on_exit)](const ExitInfo& info) {
        {
          MutexLock lock(&mu_);
          exited_.insert(id);
        }
        on_exit(info);
      };
      auto worker = std::make_unique<FakeWorker>(id, capacity_, start, std::move(record_exit));
      MutexLock lock(&mu_);
      workers_[id] = worker.get();
      return worker;
    };
  }
  // The next starts fail with `status`, `times` times.
  void FailNextStarts(int times, const absl::Status& status) {
    MutexLock lock(&mu_);
    for (int i = 0; i < times; ++i) start_failures_.push_back(status);
  }
  // Worker `id` (made by this fleet). Only while it is alive: a worker is
  // destroyed once its exit has been handled.
  FakeWorker* operator[](int id) {
    MutexLock lock(&mu_);
    return workers_.at(id);
  }
  int made() const {
    MutexLock lock(&mu_);
    return static_cast<int>(workers_.size());
  }
  // Whether worker `id` has exited (safe after it was destroyed).
  bool exited(int id) const {
    MutexLock lock(&mu_);
    return exited_.contains(id);
  }

 private:
  const int capacity_;
  mutable Mutex mu_;
  std::map<int, FakeWorker*> workers_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> start_failures_ ABSL_GUARDED_BY(mu_);
  std::set<int> exited_ ABSL_GUARDED_BY(mu_);
};

// A pool of `config` over `fleet`'s workers and `clock`, not yet started;
// its events are appended to `events` under `mu`.
inline std::unique_ptr<Pool> MakeFakePool(const PoolConfig& config, FakeFleet& fleet, FakeClock& clock, std::mutex& mu,
                                          std::vector<Event>& events) {
  return std::make_unique<Pool>(
      config, fleet.Factory(),
      [&mu, &events](Event e) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(std::move(e));
      },
      nullptr, &clock);
}

// Waits (real time, bounded) for `cond`; for the supervisor's background
// scripts, which run on threads of their own.
inline bool Eventually(const std::function<bool()>& cond, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return cond();
}

}  // namespace snakepit::internal::testing

#endif  // SNAKEPIT_TESTS_CPP_FAKE_POOL_H_
