// The public API's own call path, without Python: a PoolManager over a
// pool of fake workers and a fake clock (fake_manager.h, fake_pool.h).
// The synchronous forms wait on a per-call waiter that the completion
// fills from whichever thread finishes the call; every way a call ends
// still reaches the caller once. (execute_test, stream_test and
// host_callbacks_test prove the same with real Python workers.)
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
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

// Attachments are moved, never copied, from the caller's strings to the
// WorkerCall the worker receives, through every call form: the worker sees
// the very buffers the caller filled. And the reply's attachments reach
// the caller the same way.
constexpr std::size_t kAttachmentBytes = 1 << 20;  // far past any small-string buffer

class Attachments {
 public:
  Attachments() : data_{std::string(kAttachmentBytes, 'a'), std::string(kAttachmentBytes, 'b')} {
    for (const std::string& a : data_) where_.push_back(a.data());
  }
  // Options carrying them, to be moved into a call.
  CallOptions Options(CallOptions options = {}) {
    options.attachments = std::move(data_);
    return options;
  }
  const std::vector<const char*>& where() const { return where_; }

 private:
  std::vector<std::string> data_;
  std::vector<const char*> where_;
};

TEST_F(CallPathTest, CallMovesAttachmentsBothWays) {
  Attachments sent;
  CallOptions options = sent.Options();
  Caller caller(*manager_, [&] { return manager_->call("p", "big", nlohmann::json::object(), std::move(options)); });
  ASSERT_TRUE(AwaitPending(1));
  EXPECT_EQ(worker().attachment_data(), sent.where());

  Reply reply{.result = "done", .attachments = {std::string(kAttachmentBytes, 'r')}};
  const char* const reply_data = reply.attachments[0].data();
  ASSERT_TRUE(worker().ReplyWith(std::move(reply)));
  absl::StatusOr<Reply> got = caller.Result();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->attachments.size(), 1u);
  EXPECT_EQ(got->attachments[0].data(), reply_data);
  EXPECT_EQ(got->attachments[0].size(), kAttachmentBytes);
}

TEST_F(CallPathTest, ExecuteMovesAttachments) {
  Attachments sent;
  Caller caller(*manager_, [&] { return manager_->execute("p", "big", nlohmann::json::object(), sent.Options()); });
  ASSERT_TRUE(AwaitPending(1));
  EXPECT_EQ(worker().attachment_data(), sent.where());
  ASSERT_TRUE(worker().Reply());
  EXPECT_TRUE(caller.Result().ok());
}

TEST_F(CallPathTest, ExecuteAsyncMovesAttachments) {
  Attachments with_callback, with_future;
  std::mutex mu;
  std::optional<absl::StatusOr<Reply>> answered;
  manager_->execute_async("p", "big", nlohmann::json::object(), with_callback.Options(), [&](absl::StatusOr<Reply> r) {
    std::lock_guard<std::mutex> lock(mu);
    answered = std::move(r);
  });
  EXPECT_EQ(worker().attachment_data(), with_callback.where());
  ASSERT_TRUE(worker().Reply());
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_TRUE(answered.has_value() && answered->ok());
  }

  std::future<absl::StatusOr<nlohmann::json>> future =
      manager_->execute_async("p", "big", nlohmann::json::object(), with_future.Options());
  EXPECT_EQ(worker().attachment_data(), with_future.where());
  ASSERT_TRUE(worker().Reply());
  EXPECT_TRUE(future.get().ok());
}

TEST_F(CallPathTest, ExecuteStreamMovesAttachments) {
  Attachments with_reader, with_callbacks;
  StreamReader reader = manager_->execute_stream("p", "gen", nlohmann::json::object(), with_reader.Options());
  ASSERT_EQ(worker().streams().size(), 1u);
  EXPECT_EQ(worker().attachment_data(), with_reader.where());
  worker().EndStream(worker().streams()[0]);

  std::mutex mu;
  std::optional<absl::Status> ended;
  manager_->execute_stream(
      "p", "gen", nlohmann::json::object(), with_callbacks.Options(), [](Chunk) {},
      [&](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        ended = std::move(s);
      });
  ASSERT_EQ(worker().streams().size(), 1u);
  EXPECT_EQ(worker().attachment_data(), with_callbacks.where());
  worker().EndStream(worker().streams()[0]);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_TRUE(ended.has_value());
  EXPECT_TRUE(ended->ok()) << *ended;
}

TEST_F(CallPathTest, AnLvalueCallerKeepsItsOptions) {
  // Passed as an lvalue, the options are copied once at the call, and the
  // caller's own stay whole for the next call.
  CallOptions options{.attachments = {std::string(kAttachmentBytes, 'x')}};
  for (int i = 0; i < 2; ++i) {
    Caller caller(*manager_, [&] { return manager_->execute("p", "again", nlohmann::json::object(), options); });
    ASSERT_TRUE(AwaitPending(1));
    EXPECT_NE(worker().attachment_data(), std::vector<const char*>{options.attachments[0].data()});
    ASSERT_TRUE(worker().Reply());
    EXPECT_TRUE(caller.Result().ok());
  }
  ASSERT_EQ(options.attachments.size(), 1u);
  EXPECT_EQ(options.attachments[0].size(), kAttachmentBytes);
}

}  // namespace
}  // namespace snakepit::internal
