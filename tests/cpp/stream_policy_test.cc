// Streams and cancellation without Python: the real router, supervisor and
// stream channel over in-memory workers and a fake clock (fake_pool.h).
// stream_test.cc proves the same behaviours with real Python workers on
// both transports.
#include <chrono>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "fake_pool.h"
#include "gtest/gtest.h"
#include "pool/stream_channel.h"

namespace snakepit::internal {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;
using testing::FakeWorker;

class StreamPolicyTest : public ::testing::Test {
 protected:
  PoolConfig Config(int workers) {
    PoolConfig config;
    config.name = "p";
    config.pool_size = workers;
    config.max_queue = 10;
    config.drain_timeout = std::chrono::seconds(30);
    config.call_timeout = std::chrono::seconds(10);
    config.queue_timeout = std::chrono::seconds(10);
    config.call_kill_timeout = milliseconds(500);
    config.stream_buffer = 3;
    return config;
  }
  void Make(PoolConfig config, int capacity = 1) {
    fleet_ = std::make_unique<FakeFleet>(capacity);
    pool_ = testing::MakeFakePool(config, *fleet_, clock_, mu_, events_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  // A unary call whose outcome lands in results_ ("OK: <command>" or the code).
  void Submit(const std::string& command, CallOptions options = {}) {
    pool_->Submit(command, "{}", std::move(options), [this](absl::StatusOr<Reply> r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(r.ok() ? "OK: " + r->result.get<std::string>()
                                : std::string(absl::StatusCodeToString(r.status().code())));
    });
  }
  // A reader stream, as PoolManager::execute_stream makes it.
  std::shared_ptr<StreamChannel> Stream(const std::string& command, CallOptions options = {}) {
    std::shared_ptr<StreamChannel> channel = pool_->NewStream(options);
    pool_->Submit(
        command, "{}", std::move(options), [channel](absl::StatusOr<Reply> end) { channel->Finish(end.status()); },
        channel);
    return channel;
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
  FakeWorker& Worker0() { return *(*fleet_)[0]; }
  void TearDown() override { pool_.reset(); }

  FakeClock clock_;
  std::unique_ptr<FakeFleet> fleet_;
  std::unique_ptr<Pool> pool_;
  std::mutex mu_;
  std::vector<std::string> results_;
  std::vector<Event> events_;
};

TEST_F(StreamPolicyTest, CancelAnswersAtOnceButTheSlotIsFreedOnlyWhenTheWorkerFinishes) {
  Make(Config(1));
  std::stop_source stop;
  Submit("a", {.stop_token = stop.get_token()});
  Submit("b");  // queued behind "a"
  const std::uint64_t a = Worker0().oldest_call();
  stop.request_stop();
  EXPECT_EQ(Results(), std::vector<std::string>{"CANCELLED"});
  ASSERT_EQ(Worker0().cancels().size(), 1u);
  EXPECT_EQ(Worker0().cancels()[0], std::make_pair(a, CancelReason::kCancelled));
  PoolStats stats = pool_->Stats();
  EXPECT_EQ(stats.in_flight, 1);  // still running on the worker
  EXPECT_EQ(stats.abandoned_in_flight, 1);
  EXPECT_EQ(stats.queued, 1);  // "b" waits: the slot is not free yet
  EXPECT_EQ(stats.cancelled, 1u);
  EXPECT_EQ(Count(EventType::kCallCancelled), 1);
  ASSERT_TRUE(Worker0().Reply());  // "a" ends: its reply goes nowhere, "b" runs
  EXPECT_EQ(Worker0().pending_commands(), std::vector<std::string>{"b"});
  ASSERT_TRUE(Worker0().Reply());
  EXPECT_EQ(Results(), (std::vector<std::string>{"CANCELLED", "OK: b"}));
  EXPECT_EQ(pool_->Stats().late_replies_discarded, 1u);
  EXPECT_EQ(pool_->Stats().abandoned_in_flight, 0);
}

TEST_F(StreamPolicyTest, CancelOfAQueuedCallTakesItOutOfTheQueueWithoutTellingAWorker) {
  Make(Config(1));
  Submit("a");
  std::stop_source stop;
  Submit("b", {.stop_token = stop.get_token()});
  stop.request_stop();
  EXPECT_EQ(Results(), std::vector<std::string>{"CANCELLED"});
  EXPECT_EQ(pool_->Stats().queued, 0);
  EXPECT_TRUE(Worker0().cancels().empty());
  ASSERT_TRUE(Worker0().Reply());
  EXPECT_EQ(Worker0().pending(), 0);  // "b" never ran
}

TEST_F(StreamPolicyTest, AStopRequestedBeforeSubmissionCancelsAtOnce) {
  Make(Config(1));
  std::stop_source stop;
  stop.request_stop();
  Submit("a", {.stop_token = stop.get_token()});
  EXPECT_EQ(Results(), std::vector<std::string>{"CANCELLED"});
  EXPECT_EQ(pool_->Stats().in_flight + pool_->Stats().abandoned_in_flight, 0);
}

TEST_F(StreamPolicyTest, DeadlineAsksTheWorkerToStopAndKillsItCallKillTimeoutLater) {
  Make(Config(1));
  Submit("hangs", {.timeout = milliseconds(100)});
  const std::uint64_t id = Worker0().oldest_call();
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(Results(), std::vector<std::string>{"DEADLINE_EXCEEDED"});
  ASSERT_EQ(Worker0().cancels().size(), 1u);
  EXPECT_EQ(Worker0().cancels()[0], std::make_pair(id, CancelReason::kDeadlineExceeded));
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(fleet_->exited(0));
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return fleet_->exited(0); }));
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().workers == 1 && fleet_->made() == 2; }));
  EXPECT_EQ(pool_->Stats().recycles.at("call_kill_timeout"), 1u);
}

TEST_F(StreamPolicyTest, ACancelledCallThatIgnoresTheCancelIsKilledCallKillTimeoutAfterTheCancel) {
  Make(Config(1));
  std::stop_source stop;
  Submit("ignores", {.timeout = milliseconds(5'000), .stop_token = stop.get_token()});
  clock_.Advance(absl::Milliseconds(50));
  stop.request_stop();  // kill due at 550 ms, long before deadline + call_kill_timeout
  clock_.Advance(absl::Milliseconds(499));
  EXPECT_FALSE(fleet_->exited(0));
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return fleet_->exited(0); }));
  EXPECT_EQ(Results(), std::vector<std::string>{"CANCELLED"});  // nothing more for its caller
}

TEST_F(StreamPolicyTest, AWorkerThatStopsInTimeIsNotKilled) {
  Make(Config(1));
  std::stop_source stop;
  Submit("stops", {.stop_token = stop.get_token()});
  stop.request_stop();
  clock_.Advance(absl::Milliseconds(100));
  ASSERT_TRUE(Worker0().Fail(absl::CancelledError("stopped")));  // the worker's answer to the cancel
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(fleet_->exited(0));
  EXPECT_EQ(pool_->Stats().in_flight, 0);
}

TEST_F(StreamPolicyTest, ShutdownDoesNotWaitForCallsWhoseCallersHaveGone) {
  Make(Config(1));
  Submit("sleeps", {.timeout = milliseconds(100)});
  clock_.Advance(absl::Milliseconds(100));
  // drain_timeout is 30 s of a clock nobody moves now: only a shutdown
  // that skips the abandoned call returns.
  const absl::Time start = absl::Now();
  pool_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST_F(StreamPolicyTest, ChunksArriveInOrderThenTheEnd) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> stream = Stream("gen");
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_TRUE(Worker0().SendChunk(id, 1));
  EXPECT_TRUE(Worker0().SendChunk(id, 2));
  Worker0().EndStream(id);
  for (int expected : {1, 2}) {
    absl::StatusOr<std::optional<Chunk>> next = stream->Next();
    ASSERT_TRUE(next.ok() && next->has_value()) << next.status();
    EXPECT_EQ((*next)->data, expected);
  }
  absl::StatusOr<std::optional<Chunk>> end = stream->Next();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_FALSE(end->has_value());
  PoolStats stats = pool_->Stats();
  EXPECT_EQ(stats.open_streams, 0);
  EXPECT_EQ(stats.streams, 1u);
  EXPECT_EQ(stats.stream_chunks, 2u);
  EXPECT_EQ(stats.in_flight, 0);
}

TEST_F(StreamPolicyTest, AFullBufferPausesTheWorkerUntilTheReaderMakesRoom) {
  Make(Config(1));  // stream_buffer 3
  std::shared_ptr<StreamChannel> stream = Stream("gen");
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_TRUE(Worker0().SendChunk(id, 0));
  EXPECT_TRUE(Worker0().SendChunk(id, 1));
  EXPECT_FALSE(Worker0().SendChunk(id, 2));  // full: pause
  EXPECT_EQ(Worker0().Resumes(id), 0);
  EXPECT_EQ(pool_->Stats().stream_buffered_chunks, 3);
  ASSERT_TRUE(stream->Next().ok());
  EXPECT_EQ(Worker0().Resumes(id), 1);
  EXPECT_FALSE(Worker0().SendChunk(id, 3));  // full again
  EXPECT_EQ(stream->max_buffered_chunks(), 3u);
  EXPECT_GT(stream->max_buffered_bytes(), 0u);
  Worker0().EndStream(id);
  for (int expected = 1; expected <= 3; ++expected) {
    absl::StatusOr<std::optional<Chunk>> next = stream->Next();
    ASSERT_TRUE(next.ok() && next->has_value());
    EXPECT_EQ((*next)->data, expected);
  }
  EXPECT_EQ(pool_->Stats().stream_buffered_chunks, 0);
}

TEST_F(StreamPolicyTest, APerCallBufferOverridesThePoolsAndDropsNothing) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> stream = Stream("gen", {.stream_buffer = 1});
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_FALSE(Worker0().SendChunk(id, 0));
  EXPECT_EQ(stream->buffered_chunks(), 1u);
  Worker0().EndStream(id);
}

TEST_F(StreamPolicyTest, CancelDropsBufferedAndLateChunksAndNoneReachesAnotherCall) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> first = Stream("gen");
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_TRUE(Worker0().SendChunk(id, "first-0"));
  first->RequestCancel();
  absl::StatusOr<std::optional<Chunk>> next = first->Next();
  EXPECT_TRUE(absl::IsCancelled(next.status())) << next.status();
  ASSERT_EQ(Worker0().cancels().size(), 1u);
  EXPECT_EQ(Worker0().cancels()[0].first, id);
  // The worker had more in flight: dropped, and it is told to read on.
  EXPECT_TRUE(Worker0().SendChunk(id, "first-1"));
  EXPECT_TRUE(Worker0().SendChunk(id, "first-2"));
  std::shared_ptr<StreamChannel> second = Stream("gen");  // queued: the slot is still taken
  EXPECT_EQ(pool_->Stats().queued, 1);
  Worker0().EndStream(id, absl::CancelledError("GeneratorExit"));
  ASSERT_EQ(Worker0().streams().size(), 1u);
  const std::uint64_t id2 = Worker0().streams().at(0);
  EXPECT_NE(id2, id);
  EXPECT_TRUE(Worker0().SendChunk(id2, "second-0"));
  Worker0().EndStream(id2);
  next = second->Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->data, "second-0");
  next = second->Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_TRUE(absl::IsCancelled(first->Next().status()));  // and stays so
  PoolStats stats = pool_->Stats();
  EXPECT_EQ(stats.stream_chunks_dropped, 2u);
  EXPECT_EQ(stats.stream_buffered_chunks, 0);
  EXPECT_EQ(stats.cancelled, 1u);
}

TEST_F(StreamPolicyTest, CancelResumesAPausedWorkerSoItsStreamCanEnd) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> stream = Stream("gen", {.stream_buffer = 1});
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_FALSE(Worker0().SendChunk(id, 0));
  stream->RequestCancel();
  EXPECT_EQ(Worker0().Resumes(id), 1);
  Worker0().EndStream(id, absl::CancelledError("stopped"));
  EXPECT_EQ(pool_->Stats().in_flight, 0);
}

TEST_F(StreamPolicyTest, AWorkerDeathMidStreamGivesTheChunksSentThenUnavailable) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> stream = Stream("gen");
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_TRUE(Worker0().SendChunk(id, 0));
  EXPECT_TRUE(Worker0().SendChunk(id, 1));
  Worker0().Crash(ExitInfo{.signal = 9});
  for (int expected : {0, 1}) {
    absl::StatusOr<std::optional<Chunk>> next = stream->Next();
    ASSERT_TRUE(next.ok() && next->has_value()) << next.status();
    EXPECT_EQ((*next)->data, expected);
  }
  EXPECT_TRUE(absl::IsUnavailable(stream->Next().status()));
}

TEST_F(StreamPolicyTest, ADeadlineMidStreamEndsItAtOnceAndAsksTheWorkerToStop) {
  Make(Config(1));
  std::shared_ptr<StreamChannel> stream = Stream("gen", {.timeout = milliseconds(200)});
  const std::uint64_t id = Worker0().streams().at(0);
  EXPECT_TRUE(Worker0().SendChunk(id, 0));
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(stream->Next().status()));
  ASSERT_EQ(Worker0().cancels().size(), 1u);
  EXPECT_EQ(Worker0().cancels()[0].second, CancelReason::kDeadlineExceeded);
  EXPECT_EQ(pool_->Stats().in_flight, 1);  // until the worker ends it
  Worker0().EndStream(id, absl::CancelledError("stopped"));
  EXPECT_EQ(pool_->Stats().in_flight, 0);
}

TEST_F(StreamPolicyTest, TheCallbackFormDeliversChunksInOrderThenTheEndOnce) {
  Make(Config(1));
  std::vector<std::string> seen;
  std::shared_ptr<StreamChannel> channel = pool_->NewStream(
      {},
      [this, &seen](Chunk c) {
        std::lock_guard<std::mutex> lock(mu_);
        seen.push_back(c.data.dump());
      },
      [this, &seen](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu_);
        seen.push_back(s.ok() ? "end" : std::string(absl::StatusCodeToString(s.code())));
      });
  pool_->Submit(
      "gen", "{}", {}, [channel](absl::StatusOr<Reply> end) { channel->Finish(end.status()); }, channel);
  const std::uint64_t id = Worker0().streams().at(0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Worker0().SendChunk(id, i));
  Worker0().EndStream(id);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "end"}));
}

TEST_F(StreamPolicyTest, AStreamIsNeverRetried) {
  Make(Config(2));
  std::shared_ptr<StreamChannel> stream = Stream("gen", {.idempotent = true});
  const int on = (*fleet_)[0]->streams().empty() ? 1 : 0;
  (*fleet_)[on]->Crash(ExitInfo{.signal = 9});
  EXPECT_TRUE(absl::IsUnavailable(stream->Next().status()));
  EXPECT_EQ(pool_->Stats().retries, 0u);
}

}  // namespace
}  // namespace snakepit::internal
