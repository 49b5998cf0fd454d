// The pool's policy without Python: the real CallRouter, WorkerSupervisor
// and PoolTelemetry over in-memory workers and a fake clock
// (fake_pool.h). Each test runs in milliseconds; the end-to-end tests
// (execute_test, queue_test, retry_test, crash_restart_test, ...) prove the
// same behaviours with real Python workers.
#include <mutex>
#include <string>
#include <vector>

#include "fake_pool.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;

class PoolPolicyTest : public ::testing::Test {
 protected:
  PoolConfig Config(int workers, int max_queue = 10) {
    PoolConfig config;
    config.name = "p";
    config.pool_size = workers;
    config.max_queue = max_queue;
    config.drain_timeout = std::chrono::milliseconds(0);
    config.call_timeout = std::chrono::seconds(10);
    config.queue_timeout = std::chrono::seconds(10);
    config.call_kill_timeout = std::chrono::milliseconds(0);
    return config;
  }
  void Make(PoolConfig config, int capacity = 1) {
    fleet_ = std::make_unique<FakeFleet>(capacity);
    pool_ = testing::MakeFakePool(config, *fleet_, clock_, mu_, events_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  void Submit(const std::string& command, CallOptions options = {}) {
    pool_->Submit(command, "{}", std::move(options), [this](absl::StatusOr<Reply> r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(r.ok()
                             ? r->result.get<std::string>()
                             : absl::StrCat(absl::StatusCodeToString(r.status().code()), ": ", r.status().message()));
    });
  }
  std::vector<std::string> Results() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  int Count(EventType type) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(
        std::count_if(events_.begin(), events_.end(), [type](const Event& e) { return e.type == type; }));
  }
  // The pool first: its shutdown fails pending calls into results_.
  void TearDown() override { pool_.reset(); }

  FakeClock clock_;
  std::unique_ptr<FakeFleet> fleet_;
  std::unique_ptr<Pool> pool_;
  std::mutex mu_;
  std::vector<std::string> results_;
  std::vector<Event> events_;
};

TEST_F(PoolPolicyTest, SpreadsCallsToTheWorkerWithTheMostFreeCapacity) {
  Make(Config(2), /*capacity=*/3);
  for (int i = 0; i < 4; ++i) Submit("c" + std::to_string(i));
  // 4 calls over 2 x 3 slots: 2 and 2, never 3 and 1.
  EXPECT_EQ((*fleet_)[0]->pending(), 2);
  EXPECT_EQ((*fleet_)[1]->pending(), 2);
}

TEST_F(PoolPolicyTest, AnIdlePoolSendsTheNextCallToTheWorkerThatAnsweredLast) {
  Make(Config(3));
  auto& w = *fleet_;
  Submit("a");  // no worker has answered: the first
  ASSERT_EQ(w[0]->pending_commands(), std::vector<std::string>{"a"});
  Submit("b");
  ASSERT_EQ(w[1]->pending_commands(), std::vector<std::string>{"b"});
  ASSERT_TRUE(w[1]->Reply());
  ASSERT_TRUE(w[0]->Reply());
  // Both idle again: worker 0 answered last, so a lone caller stays on it.
  for (const char* c : {"c", "d", "e"}) {
    Submit(c);
    ASSERT_EQ(w[0]->pending_commands(), std::vector<std::string>{c});
    ASSERT_TRUE(w[0]->Reply());
  }
  EXPECT_EQ(w[1]->pending(), 0);
  EXPECT_EQ(w[2]->pending(), 0);
  // Still most free capacity first: a second concurrent call goes elsewhere.
  Submit("f");
  Submit("g");
  EXPECT_EQ(w[0]->pending_commands(), std::vector<std::string>{"f"});
  EXPECT_EQ(w[1]->pending_commands(), std::vector<std::string>{"g"});
  EXPECT_EQ(Results(), (std::vector<std::string>{"b", "a", "c", "d", "e"}));
}

TEST_F(PoolPolicyTest, QueueIsFifoAndBounded) {
  Make(Config(1, /*max_queue=*/2));
  for (const char* c : {"a", "b", "c", "d"}) Submit(c);  // d: queue full
  EXPECT_EQ(pool_->Stats().queued, 2);
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_NE(Results()[0].find("RESOURCE_EXHAUSTED"), std::string::npos);
  EXPECT_NE(Results()[0].find("max_queue=2"), std::string::npos);
  while ((*fleet_)[0]->Reply()) {
  }
  EXPECT_EQ(Results(), (std::vector<std::string>{Results()[0], "a", "b", "c"}));
  EXPECT_EQ(pool_->Stats().in_flight, 0);
  EXPECT_EQ(pool_->Stats().rejected, 1u);
}

TEST_F(PoolPolicyTest, NeverExceedsCapacity) {
  Make(Config(3, /*max_queue=*/100), /*capacity=*/2);
  for (int i = 0; i < 50; ++i) Submit("x");
  EXPECT_EQ(pool_->Stats().in_flight, 6);
  EXPECT_EQ(pool_->Stats().queued, 44);
  for (int done = 0; done < 50;) {
    bool progressed = false;
    for (int id = 0; id < 3; ++id) {
      EXPECT_LE((*fleet_)[id]->pending(), 2);
      if ((*fleet_)[id]->Reply()) ++done, progressed = true;
    }
    ASSERT_TRUE(progressed);
  }
  EXPECT_EQ(Results().size(), 50u);
}

TEST_F(PoolPolicyTest, ShutdownFailsQueuedCallsWithUnavailable) {
  Make(Config(1));
  Submit("running");
  Submit("queued");
  pool_->Shutdown();
  const std::vector<std::string> results = Results();
  ASSERT_EQ(results.size(), 2u);
  for (const std::string& r : results) EXPECT_EQ(r.rfind("UNAVAILABLE", 0), 0u) << r;
}

TEST_F(PoolPolicyTest, QueuedCallTimesOutAtQueueTimeout) {
  PoolConfig config = Config(1);
  config.queue_timeout = std::chrono::milliseconds(300);
  Make(config);
  Submit("busy");
  Submit("waits");
  clock_.Advance(absl::Milliseconds(299));
  EXPECT_TRUE(Results().empty());
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_NE(Results()[0].find("DEADLINE_EXCEEDED"), std::string::npos);
  EXPECT_NE(Results()[0].find("queue_timeout=300 ms"), std::string::npos) << Results()[0];
  EXPECT_EQ(pool_->Stats().queued, 0);
}

TEST_F(PoolPolicyTest, LateReplyIsDroppedAndNeverReachesTheNextCaller) {
  Make(Config(1));
  Submit("slow", {.timeout = std::chrono::milliseconds(100)});
  clock_.Advance(absl::Milliseconds(100));
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_NE(Results()[0].find("DEADLINE_EXCEEDED"), std::string::npos);
  // The slot stays taken until the worker is done: the next call queues.
  Submit("next");
  EXPECT_EQ(pool_->Stats().queued, 1);
  EXPECT_EQ((*fleet_)[0]->pending_commands(), std::vector<std::string>{"slow"});
  ASSERT_TRUE((*fleet_)[0]->Reply());  // the late reply of "slow"
  EXPECT_EQ(pool_->Stats().late_replies_discarded, 1u);
  ASSERT_TRUE((*fleet_)[0]->Reply());  // "next" gets its own reply
  EXPECT_EQ(Results().back(), "next");
  EXPECT_EQ(Results().size(), 2u);
  EXPECT_EQ(pool_->Stats().timeouts, 1u);
}

TEST_F(PoolPolicyTest, NegativeTimeoutIsDeadlineExceededAtOnce) {
  Make(Config(1));
  Submit("x", {.timeout = std::chrono::milliseconds(-1000)});
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_NE(Results()[0].find("DEADLINE_EXCEEDED"), std::string::npos);
  EXPECT_NE(Results()[0].find("negative timeout"), std::string::npos);
  EXPECT_EQ((*fleet_)[0]->pending(), 0);
}

TEST_F(PoolPolicyTest, IdempotentCallRetriesOnAnotherWorkerWhenItsWorkerDies) {
  Make(Config(2));
  Submit("job", {.idempotent = true, .max_attempts = 2});
  Submit("other");
  ASSERT_EQ((*fleet_)[0]->pending_commands(), std::vector<std::string>{"job"});
  (*fleet_)[0]->Crash(ExitInfo{.signal = 11});
  // Retried first in line, once worker 1 frees up (or the restart is up).
  ASSERT_TRUE((*fleet_)[1]->Reply());
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().retries == 1; }));
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 3 && pool_->Stats().workers == 2; }));
  for (int id : {1, 2}) (*fleet_)[id]->Reply();
  ASSERT_TRUE(Eventually([&] { return Results().size() == 2; }));
  EXPECT_EQ(Results()[1], "job");
}

TEST_F(PoolPolicyTest, CallThatIsNotIdempotentFailsWithUnavailableWhenItsWorkerDies) {
  Make(Config(1));
  Submit("job");
  (*fleet_)[0]->Crash(ExitInfo{.exit_code = 3});
  ASSERT_TRUE(Eventually([&] { return Results().size() == 1; }));
  EXPECT_EQ(Results()[0].rfind("UNAVAILABLE", 0), 0u) << Results()[0];
  EXPECT_NE(Results()[0].find("exit status 3"), std::string::npos) << Results()[0];
  // The crash is restarted and counted; the dead worker is never reported ready.
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().restarts == 1 && pool_->Stats().workers == 1; }));
  EXPECT_EQ(pool_->Stats().crashes, 1u);
  EXPECT_EQ(Count(EventType::kWorkerCrashed), 1);
}

TEST_F(PoolPolicyTest, IdempotentCallThatCrashedEveryWorkerSaysHowManyAttempts) {
  Make(Config(2));
  Submit("job", {.idempotent = true, .max_attempts = 2});
  const int first = (*fleet_)[0]->pending() == 1 ? 0 : 1;
  (*fleet_)[first]->Crash(ExitInfo{.signal = 11});
  ASSERT_TRUE(Eventually([&] { return (*fleet_)[1 - first]->pending() == 1; }));
  (*fleet_)[1 - first]->Crash(ExitInfo{.signal = 11});
  ASSERT_TRUE(Eventually([&] { return Results().size() == 1; }));
  EXPECT_NE(Results()[0].find("attempt 2 of 2"), std::string::npos) << Results()[0];
  EXPECT_NE(Results()[0].find("SIGSEGV"), std::string::npos) << Results()[0];
}

TEST_F(PoolPolicyTest, CallKillTimeoutKillsTheOverrunningWorkerAndReplacesIt) {
  PoolConfig config = Config(1);
  config.call_kill_timeout = std::chrono::milliseconds(500);
  Make(config);
  Submit("hangs", {.timeout = std::chrono::milliseconds(100)});
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_FALSE(fleet_->exited(0));
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(fleet_->exited(0));
  clock_.Advance(absl::Milliseconds(1));
  // Its stacks are asked for first (on a thread of the pool's), then it dies.
  ASSERT_TRUE(Eventually([&] { return fleet_->exited(0); }));
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 2 && pool_->Stats().workers == 1; }));
  EXPECT_EQ(pool_->Stats().recycles.at("call_kill_timeout"), 1u);
  ASSERT_TRUE(Eventually([&] { return Count(EventType::kWorkerRecycled) == 1; }));
  std::lock_guard<std::mutex> lock(mu_);
  for (const Event& e : events_) {
    if (e.type == EventType::kWorkerRecycled) {
      EXPECT_NE(e.python_stacks.find("fake.py"), std::string::npos);
    }
  }
  EXPECT_EQ(pool_->Stats().crashes, 0u);
}

TEST_F(PoolPolicyTest, RequestLimitRecyclesWithoutFailingACall) {
  PoolConfig config = Config(1);
  config.worker_max_requests = 2;
  config.worker_max_requests_jitter = 0;
  config.max_surge = 1;
  Make(config);
  for (const char* c : {"a", "b", "c"}) Submit(c);
  ASSERT_TRUE((*fleet_)[0]->Reply());
  ASSERT_TRUE((*fleet_)[0]->Reply());  // the limit: a successor starts, "c" waits for it
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 2 && (*fleet_)[1]->pending() == 1; }));
  EXPECT_EQ((*fleet_)[0]->pending(), 0);
  ASSERT_TRUE((*fleet_)[1]->Reply());
  EXPECT_EQ(Results(), (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().recycles.count("max_requests") == 1; }));
}

TEST_F(PoolPolicyTest, RequestLimitJitterStaysInItsRange) {
  PoolConfig config = Config(20);
  config.worker_max_requests = 100;
  config.worker_max_requests_jitter = 10;
  Make(config);
  std::set<std::uint64_t> limits;
  for (const WorkerView& w : pool_->Workers()) {
    EXPECT_GE(w.request_limit, 100u);
    EXPECT_LE(w.request_limit, 110u);
    limits.insert(w.request_limit);
  }
  EXPECT_GT(limits.size(), 1u) << "20 draws from 11 values all alike";
}

TEST_F(PoolPolicyTest, CrashRestartsBackOffThenDegradeThenRecover) {
  PoolConfig config = Config(1);
  config.restart_backoff_initial = std::chrono::milliseconds(100);
  config.restart_backoff_max = std::chrono::milliseconds(400);
  config.degraded_after_failures = 3;
  Make(config);
  fleet_->FailNextStarts(4, absl::InternalError("ImportError: no module named boom"));
  (*fleet_)[0]->Crash(ExitInfo{.exit_code = 1});
  // Start 1 fails at once; the next ones wait 100, 200, 400 ms of fake time,
  // counted from each failure (whose restart_backoff event is out first).
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 2; }));
  for (int made = 3; made <= 5; ++made) {
    ASSERT_TRUE(Eventually([&] { return Count(EventType::kRestartBackoff) == made - 2; }));
    const absl::Duration wait = absl::Milliseconds(std::min(100 << (made - 3), 400));
    clock_.Advance(wait - absl::Milliseconds(1));
    absl::SleepFor(absl::Milliseconds(20));
    EXPECT_EQ(fleet_->made(), made - 1) << "started before its backoff of " << wait;
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(Eventually([&] { return fleet_->made() == made; })) << made;
    if (made == 4) {
      // Three failures in a row: degraded, and callers are told why at once.
      ASSERT_TRUE(Eventually([&] { return pool_->Stats().degraded; }));
      Submit("x");
      ASSERT_EQ(Results().size(), 1u);
      EXPECT_NE(Results()[0].find("is degraded"), std::string::npos) << Results()[0];
      EXPECT_NE(Results()[0].find("ImportError: no module named boom"), std::string::npos);
    }
  }
  // The fifth start (after the cap of 400 ms) succeeds: recovered.
  ASSERT_TRUE(Eventually([&] { return Count(EventType::kRestartBackoff) == 4; }));
  clock_.Advance(absl::Milliseconds(400));
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 6 && !pool_->Stats().degraded; }));
  EXPECT_EQ(Count(EventType::kPoolDegraded), 1);
  ASSERT_TRUE(Eventually([&] { return Count(EventType::kPoolRecovered) == 1; }));
  EXPECT_EQ(Count(EventType::kRestartBackoff), 4);
  EXPECT_EQ(pool_->Stats().workers, 1);
}

TEST_F(PoolPolicyTest, ManualRecycleReplacesFirstAndNeverFailsTheCallInFlight) {
  PoolConfig config = Config(1);
  config.max_surge = 1;
  config.drain_timeout = std::chrono::seconds(30);
  Make(config);
  Submit("in flight");
  ASSERT_TRUE(pool_->Recycle(0, "manual").ok());
  EXPECT_FALSE(pool_->Recycle(0, "manual").ok()) << "a second recycle of the same worker";
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 2; }));
  Submit("new");  // goes to the successor: the old one drains
  ASSERT_TRUE(Eventually([&] { return (*fleet_)[1]->pending() == 1; }));
  EXPECT_FALSE(fleet_->exited(0));
  ASSERT_TRUE((*fleet_)[0]->Reply());
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().recycles.count("manual") == 1; }));
  ASSERT_TRUE((*fleet_)[1]->Reply());
  EXPECT_EQ(Results(), (std::vector<std::string>{"in flight", "new"}));
}

TEST_F(PoolPolicyTest, UnreachableWorkerIsNeverReportedReadyAndIsKilledAfterGrace) {
  Make(Config(1));
  Submit("x");
  // The channel breaks while the process lives on (no exit seen).
  ASSERT_TRUE((*fleet_)[0]->Fail(absl::UnavailableError("Socket closed")));
  EXPECT_EQ(pool_->Stats().per_worker[0].state, WorkerState::kDead);
  EXPECT_EQ(pool_->Stats().workers, 0);
  // The caller waits for the cause: the exit is not known yet.
  EXPECT_TRUE(Results().empty());
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(fleet_->exited(0));
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return fleet_->exited(0); }));  // reported from the exit thread
  ASSERT_TRUE(Eventually([&] { return Results().size() == 1; }));
  EXPECT_EQ(Results()[0].rfind("UNAVAILABLE: Socket closed", 0), 0u) << Results()[0];
  EXPECT_NE(Results()[0].find("killed by signal 9 (SIGKILL), unreachable"), std::string::npos) << Results()[0];
  ASSERT_TRUE(Eventually([&] { return fleet_->made() == 2 && pool_->Stats().workers == 1; }));
  EXPECT_EQ(pool_->Stats().recycles.at("unreachable"), 1u);
}

}  // namespace
}  // namespace snakepit::internal
