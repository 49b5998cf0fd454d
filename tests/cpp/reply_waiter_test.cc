// ReplyWaiter's hand-over between a pumping caller and the thread that
// fills it (worker/reply_waiter.h), with a scripted pump in place of a
// transport: the waiter's own protocol, whatever the transport does.
#include "worker/reply_waiter.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

Reply WithResult(int n) {
  Reply reply;
  reply.result = n;
  return reply;
}

// Pumps until interrupted or the waiter stops pumping (polling, bounded);
// `complete_itself` makes it fill the waiter on the caller's thread as a
// transport that read the reply does.
class ScriptedPump final : public ReplyPump {
 public:
  explicit ScriptedPump(bool complete_itself = false, bool give_up = false)
      : complete_itself_(complete_itself), give_up_(give_up) {}

  void Pump(std::uint64_t call_id, ReplyWaiter& waiter) override {
    pumped_call = call_id;
    saw_pumping = waiter.pumping();
    pumping.Notify();
    if (give_up_) return;
    if (complete_itself_) {
      waiter.StopPumping();
      waiter.Fill(WithResult(7));
      return;
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (waiter.pumping() && !interrupted.load() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  }
  void Interrupt() override { interrupted.store(true); }

  absl::Notification pumping;
  std::atomic<bool> interrupted{false};
  std::uint64_t pumped_call = 0;
  bool saw_pumping = false;

 private:
  const bool complete_itself_;
  const bool give_up_;
};

TEST(ReplyWaiterTest, AFillFromAnotherThreadInterruptsThePumpingCaller) {
  ReplyWaiter waiter;
  auto pump = std::make_shared<ScriptedPump>();
  ASSERT_TRUE(waiter.OfferPump(pump, 42));
  std::thread filler([&] {
    pump->pumping.WaitForNotification();
    waiter.Fill(WithResult(5));
  });
  absl::StatusOr<Reply> reply = waiter.Wait();
  filler.join();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->result, 5);
  EXPECT_TRUE(pump->saw_pumping);
  EXPECT_EQ(pump->pumped_call, 42u);
  EXPECT_TRUE(pump->interrupted.load()) << "the pump was not told to stop";
}

TEST(ReplyWaiterTest, ACallerThatCompletesItsOwnCallNeedsNoInterrupt) {
  ReplyWaiter waiter;
  auto pump = std::make_shared<ScriptedPump>(/*complete_itself=*/true);
  ASSERT_TRUE(waiter.OfferPump(pump, 1));
  absl::StatusOr<Reply> reply = waiter.Wait();
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->result, 7);
  EXPECT_FALSE(pump->interrupted.load());
}

TEST(ReplyWaiterTest, APumpThatGivesUpLeavesTheCallerAsleepUntilFilled) {
  ReplyWaiter waiter;
  auto pump = std::make_shared<ScriptedPump>(/*complete_itself=*/false, /*give_up=*/true);
  ASSERT_TRUE(waiter.OfferPump(pump, 1));
  std::thread filler([&] {
    pump->pumping.WaitForNotification();
    absl::SleepFor(absl::Milliseconds(50));  // the caller is asleep by now
    waiter.Fill(absl::UnavailableError("worker died"));
  });
  absl::StatusOr<Reply> reply = waiter.Wait();
  filler.join();
  EXPECT_TRUE(absl::IsUnavailable(reply.status())) << reply.status();
  EXPECT_FALSE(pump->interrupted.load()) << "a pump that is gone was interrupted";
}

TEST(ReplyWaiterTest, OnlyTheWaitingThreadTakesAnOfferAndOnlyOnce) {
  ReplyWaiter waiter;
  bool taken = true;
  std::thread other([&] { taken = waiter.OfferPump(std::make_shared<ScriptedPump>(), 1); });
  other.join();
  EXPECT_FALSE(taken) << "an offer from another thread: that thread is not the one that waits";
  EXPECT_TRUE(waiter.OfferPump(std::make_shared<ScriptedPump>(true), 2));
  EXPECT_FALSE(waiter.OfferPump(std::make_shared<ScriptedPump>(), 3)) << "a second offer (a retry) replaced the first";
  EXPECT_EQ(waiter.Wait()->result, 7);
}

// The pump is still called (to give back what it holds for the call),
// but told not to read.
TEST(ReplyWaiterTest, AWaiterFilledBeforeItWaitsIsNotPumped) {
  ReplyWaiter waiter;
  auto pump = std::make_shared<ScriptedPump>();
  ASSERT_TRUE(waiter.OfferPump(pump, 1));
  waiter.Fill(WithResult(3));  // the deadline timer, before the caller waits
  EXPECT_EQ(waiter.Wait()->result, 3);
  EXPECT_TRUE(pump->pumping.HasBeenNotified());
  EXPECT_FALSE(pump->saw_pumping);
  EXPECT_FALSE(pump->interrupted.load());
}

}  // namespace
}  // namespace snakepit::internal
