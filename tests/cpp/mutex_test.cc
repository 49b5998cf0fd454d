// The project's Mutex keeps absl::Mutex's contract: Await conditions are
// re-evaluated whenever the mutex is released, timed waits give up on time,
// and CondVar and Notification work on top of it.
#include "common/mutex.h"

#include <thread>

#include "absl/time/clock.h"
#include "common/notification.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

struct Flagged {
  Mutex mu;
  int value ABSL_GUARDED_BY(mu) = 0;
};

TEST(Mutex, AwaitWakesOnAPlainUnlock) {
  Flagged s;
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(20));
    MutexLock lock(&s.mu);
    s.value = 1;  // no notify: the unlock is enough
  });
  {
    MutexLock lock(&s.mu);
    auto set = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return s.value == 1; };
    EXPECT_TRUE(s.mu.AwaitWithTimeout(Condition(&set), absl::Seconds(10)));
    s.mu.AssertHeld();
  }
  setter.join();
}

TEST(Mutex, AwaitWakesWhenAnotherWaiterChangedTheStateBeforeWaiting) {
  // The second thread changes the state, then blocks in Await itself: that
  // release must let the first thread see the change.
  Flagged s;
  std::thread first([&] {
    MutexLock lock(&s.mu);
    auto one = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return s.value >= 1; };
    s.mu.Await(Condition(&one));
    s.value = 2;
  });
  absl::SleepFor(absl::Milliseconds(20));
  {
    MutexLock lock(&s.mu);
    s.value = 1;
    auto two = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return s.value == 2; };
    EXPECT_TRUE(s.mu.AwaitWithDeadline(Condition(&two), absl::Now() + absl::Seconds(10)));
  }
  first.join();
}

TEST(Mutex, TimedAwaitGivesUpOnTime) {
  Flagged s;
  MutexLock lock(&s.mu);
  auto never = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) { return s.value == 1; };
  const absl::Time start = absl::Now();
  EXPECT_FALSE(s.mu.AwaitWithTimeout(Condition(&never), absl::Milliseconds(50)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_FALSE(s.mu.AwaitWithDeadline(Condition(&never), absl::Now() - absl::Seconds(1)));
  s.mu.AssertHeld();
}

TEST(CondVar, SignalWakesAWaiterAndTimeoutsReport) {
  Flagged s;
  CondVar cv;
  std::thread signaller([&] {
    absl::SleepFor(absl::Milliseconds(20));
    MutexLock lock(&s.mu);
    s.value = 1;
    cv.Signal();
  });
  {
    MutexLock lock(&s.mu);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (s.value == 0 && absl::Now() < deadline) cv.WaitWithDeadline(&s.mu, deadline);
    EXPECT_EQ(s.value, 1);
    EXPECT_TRUE(cv.WaitWithTimeout(&s.mu, absl::Milliseconds(10))) << "nobody signals: times out";
  }
  signaller.join();
}

TEST(Notification, WaitersSeeWhatTheNotifierWrote) {
  Notification done;
  int answer = 0;  // written before Notify, read after the wait
  std::thread notifier([&] {
    answer = 42;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(answer, 42);
  EXPECT_TRUE(done.HasBeenNotified());
  notifier.join();
  Notification never;
  EXPECT_FALSE(never.WaitForNotificationWithDeadline(absl::Now() + absl::Milliseconds(10)));
}

}  // namespace
}  // namespace snakepit::internal
