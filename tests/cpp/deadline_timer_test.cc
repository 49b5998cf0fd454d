// DeadlineTimer's cost contract on a fake clock: arming or cancelling a
// deadline later than the one the thread sleeps until never wakes the
// thread; an earlier one wakes it exactly once; and every deadline still
// fires at its time, no earlier and no later.
#include "common/deadline_timer.h"

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "absl/time/clock.h"
#include "common/mutex.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

// A clock for the timer's thread that moves only when the test advances
// it. The thread's sleep is a real CondVar wait: woken by Schedule's signal,
// or by Advance once the fake time reaches the time it sleeps until.
class FakeTime final : public DeadlineTimer::TimeSource {
 public:
  absl::Time Now() override {
    MutexLock lock(&mu_);
    return now_;
  }
  void SleepUntil(Mutex* mu, CondVar* cv, absl::Time until) override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    {
      MutexLock lock(&mu_);
      // Checked under our lock: an Advance either came before (no sleep)
      // or comes after and finds this sleeper (then it signals under `mu`,
      // which we hold until the wait releases it: no lost wake-up).
      if (now_ >= until) return;
      sleeper_ = Sleeper{mu, cv, until};
    }
    cv->Wait(mu);
    MutexLock lock(&mu_);
    sleeper_.reset();
  }

  void Advance(absl::Duration d) {
    Sleeper wake;
    {
      MutexLock lock(&mu_);
      now_ += d;
      if (!sleeper_ || now_ < sleeper_->until) return;
      wake = *sleeper_;
    }
    MutexLock lock(wake.mu);
    wake.cv->Signal();
  }

  // Waits (real time, bounded) until the timer's thread sleeps until
  // `until`; false if it does not within 10 s.
  bool AwaitSleepingUntil(absl::Time until) {
    MutexLock lock(&mu_);
    auto sleeping = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sleeper_ && sleeper_->until == until; };
    return mu_.AwaitWithTimeout(Condition(&sleeping), absl::Seconds(10));
  }

  // The time the thread sleeps until, if it sleeps.
  std::optional<absl::Time> sleeping_until() {
    MutexLock lock(&mu_);
    if (!sleeper_) return std::nullopt;
    return sleeper_->until;
  }

  absl::Time start() const { return kStart; }

 private:
  struct Sleeper {
    Mutex* mu = nullptr;
    CondVar* cv = nullptr;
    absl::Time until;
  };
  static constexpr absl::Time kStart = absl::FromUnixSeconds(1'000'000);

  Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = kStart;
  std::optional<Sleeper> sleeper_ ABSL_GUARDED_BY(mu_);
};

// Records when each callback ran, on the fake clock.
class Firings {
 public:
  explicit Firings(FakeTime& time) : time_(time) {}

  std::function<void()> Recorder(int index) {
    return [this, index] {
      const absl::Time now = time_.Now();
      MutexLock lock(&mu_);
      fired_.emplace_back(index, now);
    };
  }
  // Waits (real time, bounded) until `count` callbacks ran.
  bool AwaitCount(size_t count) {
    MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return fired_.size() >= count; };
    return mu_.AwaitWithTimeout(Condition(&reached), absl::Seconds(10));
  }
  std::vector<std::pair<int, absl::Time>> fired() {
    MutexLock lock(&mu_);
    return fired_;
  }

 private:
  FakeTime& time_;
  Mutex mu_;
  std::vector<std::pair<int, absl::Time>> fired_ ABSL_GUARDED_BY(mu_);
};

// The timer on the fake clock, and the record of its callbacks (declared
// first: the timer, destroyed first, joins its thread before they go).
class DeadlineTimerTest : public ::testing::Test {
 protected:
  // Arms `when` and waits until the thread sleeps until it.
  DeadlineTimer::Handle ArmFirst(absl::Time when, int index) {
    const DeadlineTimer::Handle h = timer_.Schedule(when, firings_.Recorder(index));
    EXPECT_TRUE(time_.AwaitSleepingUntil(when));
    return h;
  }

  FakeTime time_;
  Firings firings_{time_};
  DeadlineTimer timer_{&time_};
};

TEST_F(DeadlineTimerTest, LaterDeadlinesNeitherWakeNorSignalTheThread) {
  const absl::Time first = time_.start() + absl::Seconds(30);
  const DeadlineTimer::Handle zeroth = ArmFirst(first, 0);
  const DeadlineTimer::Counters before = timer_.counters();

  // Many calls in flight at once, each arming a later deadline.
  std::vector<DeadlineTimer::Handle> handles;
  for (int i = 1; i <= 1000; ++i) {
    handles.push_back(timer_.Schedule(first + absl::Milliseconds(i), firings_.Recorder(i)));
  }
  for (const DeadlineTimer::Handle& h : handles) timer_.Cancel(h);
  // What one caller does call after call: its call's deadline is the only
  // one, cancelled by the reply before the next call arms a later one.
  // The thread keeps sleeping until the first, long gone.
  DeadlineTimer::Handle previous = zeroth;
  for (int i = 1; i <= 1000; ++i) {
    timer_.Cancel(previous);
    previous = timer_.Schedule(first + absl::Milliseconds(i), firings_.Recorder(i));
  }

  const DeadlineTimer::Counters after = timer_.counters();
  EXPECT_EQ(after.signals, before.signals);
  EXPECT_EQ(after.wakeups, before.wakeups);
  EXPECT_EQ(time_.sleeping_until(), first);
  EXPECT_EQ(after.fired, 0u);
}

TEST_F(DeadlineTimerTest, AnEarlierDeadlineWakesTheThreadExactlyOnce) {
  const absl::Time later = time_.start() + absl::Seconds(30);
  ArmFirst(later, 0);
  const DeadlineTimer::Counters before = timer_.counters();

  const absl::Time earlier = time_.start() + absl::Seconds(10);
  timer_.Schedule(earlier, firings_.Recorder(1));
  ASSERT_TRUE(time_.AwaitSleepingUntil(earlier));

  const DeadlineTimer::Counters after = timer_.counters();
  EXPECT_EQ(after.signals, before.signals + 1);
  EXPECT_EQ(after.wakeups, before.wakeups + 1);
  EXPECT_EQ(after.fired, 0u);
}

TEST_F(DeadlineTimerTest, ACancelledEarliestDeadlineCostsOneWakeUpAtItsTime) {
  const absl::Time first = time_.start() + absl::Seconds(30);
  const DeadlineTimer::Handle h = ArmFirst(first, 0);
  const absl::Time second = first + absl::Seconds(30);
  timer_.Schedule(second, firings_.Recorder(1));
  timer_.Cancel(h);
  const DeadlineTimer::Counters before = timer_.counters();
  EXPECT_EQ(time_.sleeping_until(), first);  // the cancel did not wake it

  time_.Advance(absl::Seconds(30));
  ASSERT_TRUE(time_.AwaitSleepingUntil(second));
  const DeadlineTimer::Counters after = timer_.counters();
  EXPECT_EQ(after.wakeups, before.wakeups + 1);
  EXPECT_EQ(after.signals, before.signals);
  EXPECT_EQ(after.fired, 0u);

  time_.Advance(absl::Seconds(30));
  ASSERT_TRUE(firings_.AwaitCount(1));
  EXPECT_EQ(firings_.fired(), (std::vector<std::pair<int, absl::Time>>{{1, second}}));
}

TEST_F(DeadlineTimerTest, EveryDeadlineFiresAtItsTime) {
  // Armed in shuffled order, a tenth of them cancelled.
  constexpr int kCount = 200;
  std::vector<int> order(kCount);
  for (int i = 0; i < kCount; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  auto when = [&](int i) { return time_.start() + absl::Milliseconds(10 * (i + 1)); };
  std::vector<DeadlineTimer::Handle> handles(kCount);
  for (int i : order) handles[i] = timer_.Schedule(when(i), firings_.Recorder(i));
  std::vector<std::pair<int, absl::Time>> expected;
  for (int i = 0; i < kCount; ++i) {
    if (i % 10 == 3) {
      timer_.Cancel(handles[i]);
    } else {
      expected.emplace_back(i, when(i));
    }
  }
  EXPECT_EQ(timer_.Schedule(absl::InfiniteFuture(), firings_.Recorder(-1)).id, 0u);
  const std::uint64_t signals = timer_.counters().signals;

  // Up to just before each deadline, then onto it: nothing fires early,
  // and each fires once its time comes, with nothing else to wake the thread.
  size_t due = 0;
  for (int i = 0; i < kCount; ++i) {
    time_.Advance(absl::Milliseconds(10) - absl::Nanoseconds(1));
    time_.Advance(absl::Nanoseconds(1));
    if (i % 10 == 3) {
      ASSERT_TRUE(time_.AwaitSleepingUntil(when(i + 1))) << i;
    } else {
      ASSERT_TRUE(firings_.AwaitCount(++due)) << "deadline " << i << " did not fire";
    }
    ASSERT_EQ(firings_.fired().size(), due) << "a deadline fired early, at step " << i;
  }
  EXPECT_EQ(firings_.fired(), expected);
  const DeadlineTimer::Counters c = timer_.counters();
  EXPECT_EQ(c.fired, expected.size());
  EXPECT_EQ(c.signals, signals);  // reaching a deadline needs nobody to signal
}

TEST(DeadlineTimer, RealClockFiresAndCancels) {
  DeadlineTimer timer;
  Mutex mu;
  int fired = 0;
  const DeadlineTimer::Handle cancelled = timer.Schedule(absl::Now() + absl::Milliseconds(20), [&] {
    MutexLock lock(&mu);
    fired += 100;
  });
  timer.Schedule(absl::Now() + absl::Milliseconds(30), [&] {
    MutexLock lock(&mu);
    ++fired;
  });
  timer.Cancel(cancelled);
  MutexLock lock(&mu);
  auto one = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return fired > 0; };
  ASSERT_TRUE(mu.AwaitWithTimeout(Condition(&one), absl::Seconds(10)));
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace snakepit::internal
