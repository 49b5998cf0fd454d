// Telemetry events: per-call request_executed, pool_saturated,
// capacity_reached and pool_warning; and a stuck subscriber never stalls
// the calls.
#include <future>
#include <vector>

#include "common/notification.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

TEST(Telemetry, EveryCallIsAnEventWithItsDurationAndStatus) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}), log.Handler());
  ASSERT_TRUE(pools->execute("p", "sleep", {{"ms", 100}}).ok());
  ASSERT_FALSE(pools->execute("p", "raise_error").ok());
  ASSERT_TRUE(log.WaitFor(EventType::kRequestExecuted, "", 2, milliseconds(2'000)));
  const std::vector<Event> events = log.Of(EventType::kRequestExecuted);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].command, "sleep");
  EXPECT_EQ(events[0].status, "OK");
  EXPECT_GE(events[0].duration, milliseconds(100));
  EXPECT_LT(events[0].duration, milliseconds(2'000));
  EXPECT_EQ(events[1].command, "raise_error");
  EXPECT_EQ(events[1].status, "UNKNOWN");
  EXPECT_NE(events[1].message.find("ValueError"), std::string::npos);
  EXPECT_EQ(events[1].ToJson()["type"], "request_executed");
}

TEST(Telemetry, SaturationAndFullCapacityAreAnnounced) {
  EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}), log.Handler());
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 2; ++i) calls.push_back(pools->execute_async("p", "sleep", {{"ms", 300}}));
  ASSERT_TRUE(log.WaitFor(EventType::kCapacityReached, "", 1, milliseconds(2'000)));
  EXPECT_TRUE(log.Of(EventType::kPoolSaturated).empty()) << "nothing is queued yet";
  calls.push_back(pools->execute_async("p", "sleep", {{"ms", 10}}));
  ASSERT_TRUE(log.WaitFor(EventType::kPoolSaturated, "", 1, milliseconds(2'000)));
  const Event saturated = log.Of(EventType::kPoolSaturated)[0];
  EXPECT_EQ(saturated.queued, 1);
  EXPECT_EQ(saturated.in_flight, 2);
  EXPECT_EQ(log.Of(EventType::kCapacityReached)[0].in_flight, 2);
  for (auto& c : calls) ASSERT_TRUE(c.get().ok());
}

TEST(Telemetry, ThreadPoolOnAGilInterpreterIsWarnedAboutAtStart) {
  EventLog log;
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 2}, {"threads_per_worker", 2}},
                           {{"name", "p"}, {"pool_size", 1}}}),
      log.Handler());
  ASSERT_TRUE(log.WaitFor(EventType::kPoolWarning, "gil_enabled", 1, milliseconds(2'000)));
  std::this_thread::sleep_for(milliseconds(100));
  const std::vector<Event> warnings = log.Of(EventType::kPoolWarning);
  ASSERT_EQ(warnings.size(), 1u) << "once per pool, and never for the process pool";
  EXPECT_EQ(warnings[0].pool, "t");
  EXPECT_NE(warnings[0].message.find("GIL enabled"), std::string::npos) << warnings[0].message;
}

TEST(Telemetry, AStuckSubscriberNeverStallsCalls) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  internal::Notification release;
  internal::Notification entered;
  const SubscriptionId id = pools->subscribe([&](const Event&) {
    if (!entered.HasBeenNotified()) entered.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(60));
  });
  // The handler blocks on the first event until released: if publishing
  // waited for it, these calls could not finish.
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<nlohmann::json> r = pools->execute("p", "ping", {}, {.timeout = milliseconds(5'000)});
    ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.status();
  }
  EXPECT_TRUE(entered.HasBeenNotified());
  release.Notify();
  EXPECT_TRUE(pools->unsubscribe(id));
}

}  // namespace
}  // namespace snakepit
