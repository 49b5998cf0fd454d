// The bounded queue, queue timeout, call deadlines, and late replies.
#include <future>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(Queue, FullQueueIsResourceExhaustedAtOnce) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "q"}, {"pool_size", 1}, {"max_queue", 2}, {"queue_timeout", 10}}}));
  ASSERT_NE(pools, nullptr);
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> held;
  for (int i = 0; i < 3; ++i) held.push_back(pools->execute_async("q", "sleep", {{"ms", 400}}));  // 1 runs, 2 wait
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("q")->queued == 2; }, milliseconds(2000)));

  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<nlohmann::json> r = pools->execute("q", "ping");
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("max_queue=2"));
  EXPECT_LT(waited, milliseconds(200)) << "a full queue must refuse at once";
  for (auto& f : held) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(pools->stats("q")->rejected, 1u);
}

TEST(Queue, QueueTimeoutIsDeadlineExceeded) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "q"}, {"pool_size", 1}, {"queue_timeout", 0.2}, {"call_timeout", 10}}}));
  ASSERT_NE(pools, nullptr);
  auto busy = pools->execute_async("q", "sleep", {{"ms", 1000}});
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("q")->in_flight == 1; }, milliseconds(2000)));
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<nlohmann::json> r = pools->execute("q", "ping");
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("queue_timeout"));
  EXPECT_GE(waited, milliseconds(180));
  EXPECT_LT(waited, milliseconds(900));
  EXPECT_TRUE(busy.get().ok());
}

TEST(Deadline, CallDeadlineIsHonouredWhileRunning) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "d"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  CallOptions options;
  options.timeout = milliseconds(150);
  const auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<nlohmann::json> r = pools->execute("d", "sleep", {{"ms", 1500}}, options);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_GE(waited, milliseconds(140));
  EXPECT_LT(waited, milliseconds(800));
  EXPECT_EQ(pools->stats("d")->timeouts, 1u);
}

// The bug other systems shipped: a reply that arrives after its caller gave
// up is handed to the next caller on the same connection. Here the worker
// has one slot; the timed-out call's reply comes while the next caller
// waits, and the next caller must get its own answer.
TEST(Deadline, LateReplyIsDiscardedNotDeliveredToTheNextCaller) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "d"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  CallOptions short_deadline;
  short_deadline.timeout = milliseconds(100);
  absl::StatusOr<nlohmann::json> first = pools->execute("d", "sleep", {{"ms", 400}}, short_deadline);
  ASSERT_EQ(first.status().code(), absl::StatusCode::kDeadlineExceeded) << first.status();

  // The worker is still busy with the first call: the slot stays taken.
  EXPECT_EQ(pools->stats("d")->in_flight, 1);
  absl::StatusOr<nlohmann::json> second = pools->execute("d", "echo", {{"tag", "second-caller"}});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, (nlohmann::json{{"tag", "second-caller"}}));
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("d")->late_replies_discarded == 1; }, milliseconds(2000)));
  // Many more calls: each gets its own echo.
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<nlohmann::json> r = pools->execute("d", "echo", {{"i", i}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)["i"], i);
  }
}

TEST(Deadline, ArgsOverTheMessageLimitAreRefusedWithTheLimit) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "m"}, {"pool_size", 1}, {"max_message_mb", 1}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("m", "echo", {{"s", std::string(2 << 20, 'x')}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("max_message_mb"));
  EXPECT_TRUE(pools->execute("m", "ping").ok());
}

}  // namespace
}  // namespace snakepit
