// The public API's own call path, without Python: a PoolManager over a
// pool of fake workers and a fake clock (fake_manager.h, fake_pool.h).
// The synchronous forms wait on a per-call waiter that the completion
// fills from whichever thread finishes the call; every way a call ends
// still reaches the caller once. (execute_test, stream_test and
// host_callbacks_test prove the same with real Python workers.)
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_manager.h"
#include "fake_pool.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;
using testing::FakeWorker;

class CallPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PoolConfig config;
    config.name = "p";
    config.pool_size = 1;
    config.drain_timeout = std::chrono::milliseconds(0);
    config.call_timeout = std::chrono::seconds(10);
    config.queue_timeout = std::chrono::seconds(10);
    config.call_kill_timeout = std::chrono::milliseconds(0);
    std::unique_ptr<Pool> pool = testing::MakeFakePool(config, fleet_, clock_, mu_, events_);
    ASSERT_TRUE(pool->Start().ok());
    pool_ = pool.get();
    std::vector<std::unique_ptr<Pool>> pools;
    pools.push_back(std::move(pool));
    manager_ = PoolManagerTestPeer::Over(std::move(pools));
  }
  // The manager first: its shutdown fails what is still pending.
  void TearDown() override { manager_.reset(); }

  FakeWorker& worker() { return *fleet_[0]; }
  bool AwaitPending(int n) {
    return Eventually([&] { return worker().pending() == n; });
  }

  FakeClock clock_;
  FakeFleet fleet_;
  std::mutex mu_;
  std::vector<Event> events_;
  Pool* pool_ = nullptr;
  std::unique_ptr<PoolManager> manager_;
};

// Runs `fn` on a thread of its own, as a caller blocked in execute().
// Destroyed before its result was taken (a failed assertion), it shuts
// the manager down first, which answers every pending call: no test hangs.
template <typename F>
class Caller {
 public:
  Caller(PoolManager& manager, F fn)
      : manager_(manager), thread_([this, fn = std::move(fn)]() mutable { result_ = fn(); }) {}
  ~Caller() {
    if (!thread_.joinable()) return;
    manager_.shutdown();
    thread_.join();
  }
  auto Result() {
    thread_.join();
    return std::move(result_);
  }

 private:
  PoolManager& manager_;
  decltype(std::declval<F>()()) result_;
  std::thread thread_;
};
using JsonCaller = Caller<std::function<absl::StatusOr<nlohmann::json>()>>;

TEST_F(CallPathTest, ExecuteReturnsTheWorkersReply) {
  Caller caller(*manager_, [&] { return manager_->execute("p", "hello"); });
  ASSERT_TRUE(AwaitPending(1));
  ASSERT_TRUE(worker().Reply());
  absl::StatusOr<nlohmann::json> result = caller.Result();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "hello");
}

TEST_F(CallPathTest, ARefusedCallReturnsAtOnceOnTheCallersThread) {
  absl::StatusOr<Reply> unknown = manager_->call("nope", "x");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<Reply> negative =
      manager_->call("p", "x", nlohmann::json::object(), {.timeout = std::chrono::milliseconds(-1)});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(worker().pending(), 0);
}

TEST_F(CallPathTest, TheDeadlineAnswersAWaitingCallerAndItsLateReplyIsDropped) {
  Caller slow(*manager_, [&] {
    return manager_->call("p", "slow", nlohmann::json::object(), {.timeout = std::chrono::milliseconds(100)});
  });
  ASSERT_TRUE(AwaitPending(1));
  clock_.Advance(absl::Milliseconds(100));  // the timer fires on this thread
  EXPECT_EQ(slow.Result().status().code(), absl::StatusCode::kDeadlineExceeded);

  Caller next(*manager_, [&] { return manager_->call("p", "next"); });
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().queued == 1; }));  // "slow" still holds the slot
  ASSERT_TRUE(worker().Reply());                                        // the late reply of "slow"
  ASSERT_TRUE(AwaitPending(1));
  ASSERT_TRUE(worker().Reply());
  absl::StatusOr<Reply> reply = next.Result();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->result, "next");
  EXPECT_EQ(pool_->Stats().late_replies_discarded, 1u);
}

TEST_F(CallPathTest, AStopTokenCancelsAWaitingCaller) {
  std::stop_source stop;
  Caller caller(*manager_, [&] {
    return manager_->execute("p", "cancel", nlohmann::json::object(), {.stop_token = stop.get_token()});
  });
  ASSERT_TRUE(AwaitPending(1));
  stop.request_stop();
  EXPECT_EQ(caller.Result().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(worker().cancels().size(), 1u);
  ASSERT_TRUE(worker().Reply());  // the worker's late answer goes nowhere
  EXPECT_EQ(pool_->Stats().late_replies_discarded, 1u);
}

TEST_F(CallPathTest, ManyCallersEachGetTheirOwnReply) {
  std::vector<std::unique_ptr<JsonCaller>> callers;
  for (int i = 0; i < 8; ++i) {
    callers.push_back(
        std::make_unique<JsonCaller>(*manager_, [this, i] { return manager_->execute("p", "c" + std::to_string(i)); }));
  }
  // One slot: the worker answers them one at a time, in whatever order
  // they were queued, each with its own command name.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(AwaitPending(1)) << i;
    ASSERT_TRUE(worker().Reply());
  }
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<nlohmann::json> result = callers[i]->Result();
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, "c" + std::to_string(i));
  }
}

}  // namespace
}  // namespace snakepit::internal
