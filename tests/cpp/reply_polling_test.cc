// ReplyPolling's decisions on a Load of the test's own, and UsableCpus on
// fake cgroup files. The end-to-end behaviour (a polling caller does not
// sleep for a quick reply) is in shm_caller_reads_test.cc.
#include "worker/reply_polling.h"

#include <sched.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/usable_cpus.h"
#include "gtest/gtest.h"

namespace snakepit::internal {
namespace {

constexpr absl::Duration kBudget = absl::Microseconds(50);

TEST(ReplyPolling, ALoneCallerOnTwoCpusPollsForTheBudget) {
  ReplyPolling::Load load;
  ReplyPolling polling(kBudget, 2, load);
  polling.Sent();
  const absl::Duration poll = polling.BeginPoll();
  EXPECT_EQ(poll, kBudget);
  EXPECT_EQ(load.polling.load(), 1);
  polling.EndPoll(poll, absl::Microseconds(20));
  EXPECT_EQ(load.polling.load(), 0);
  polling.Answered();
  EXPECT_EQ(load.in_flight.load(), 0);
}

TEST(ReplyPolling, ABudgetOfZeroNeverPolls) {
  ReplyPolling::Load load;
  ReplyPolling polling(absl::ZeroDuration(), 64, load);
  polling.Sent();
  EXPECT_EQ(polling.BeginPoll(), absl::ZeroDuration());
  EXPECT_EQ(load.polling.load(), 0);
}

// Two callers on two CPUs: two busy workers and a polling caller would
// need three. Neither polls; nor does a third pool's caller.
TEST(ReplyPolling, CallsInFlightThatFillTheCpusStopThePolling) {
  ReplyPolling::Load load;
  ReplyPolling first(kBudget, 2, load);
  ReplyPolling second(kBudget, 2, load);
  first.Sent();
  second.Sent();
  EXPECT_EQ(first.BeginPoll(), absl::ZeroDuration());
  EXPECT_EQ(second.BeginPoll(), absl::ZeroDuration());
  EXPECT_EQ(load.polling.load(), 0) << "a caller that may not poll must not stay counted";
  // One answered: the other caller may poll again.
  first.Answered();
  EXPECT_EQ(second.BeginPoll(), kBudget);
}

// On four CPUs, one call in flight and one caller polling leave room for
// a second pair, not a third.
TEST(ReplyPolling, PollingCallersCountAgainstTheCpus) {
  ReplyPolling::Load load;
  ReplyPolling a(kBudget, 4, load);
  ReplyPolling b(kBudget, 4, load);
  ReplyPolling c(kBudget, 4, load);
  a.Sent();
  ASSERT_EQ(a.BeginPoll(), kBudget);
  b.Sent();
  ASSERT_EQ(b.BeginPoll(), kBudget);
  c.Sent();
  EXPECT_EQ(c.BeginPoll(), absl::ZeroDuration()) << "3 busy workers + 3 polling callers on 4 CPUs";
}

// A caller that began to poll while the other caller's call was not in
// flight stops when that call is sent.
TEST(ReplyPolling, ACallSentDuringAPollEndsIt) {
  ReplyPolling::Load load;
  ReplyPolling mine(kBudget, 2, load);
  ReplyPolling other(kBudget, 2, load);
  mine.Sent();
  ASSERT_EQ(mine.BeginPoll(), kBudget);
  EXPECT_TRUE(mine.StillFits());
  other.Sent();
  EXPECT_FALSE(mine.StillFits()) << "two busy workers and a polling caller on two CPUs";
  other.Answered();
  EXPECT_TRUE(mine.StillFits());
}

TEST(ReplyPolling, AReplySlowerThanTheBudgetStopsPollingUntilOneIsQuick) {
  ReplyPolling::Load load;
  ReplyPolling polling(kBudget, 2, load);
  polling.Sent();
  absl::Duration poll = polling.BeginPoll();
  ASSERT_EQ(poll, kBudget);
  polling.EndPoll(poll, absl::Milliseconds(3));  // a long call: polled for nothing
  poll = polling.BeginPoll();
  EXPECT_EQ(poll, absl::ZeroDuration()) << "the next caller of a slow worker sleeps at once";
  polling.EndPoll(poll, absl::Microseconds(30));  // quick again (slept, woken)
  EXPECT_EQ(polling.BeginPoll(), kBudget);
}

TEST(ReplyPolling, AClientLeavesItsCallsInFlightWithIt) {
  ReplyPolling::Load load;
  {
    ReplyPolling gone(kBudget, 2, load);
    gone.Sent(3);
    gone.Answered();
    EXPECT_EQ(load.in_flight.load(), 2);
  }
  EXPECT_EQ(load.in_flight.load(), 0) << "calls a destroyed client never answered still counted";
}

TEST(UsableCpus, AQuotaIsRoundedUpToWholeCpus) {
  EXPECT_EQ(CpusOfQuota("200000 100000\n"), 2);
  EXPECT_EQ(CpusOfQuota("150000 100000"), 2);
  EXPECT_EQ(CpusOfQuota("50000 100000\n"), 1);
  EXPECT_EQ(CpusOfQuota("max 100000\n"), std::nullopt);
  EXPECT_EQ(CpusOfQuota(""), std::nullopt);
  EXPECT_EQ(CpusOfQuota("100000"), std::nullopt);
  EXPECT_EQ(CpusOfQuota("-5 100000"), std::nullopt);
  EXPECT_EQ(CpusOfQuota("100000 0"), std::nullopt);
  EXPECT_EQ(CpusOfQuota("12abc 100000"), std::nullopt);
}

TEST(UsableCpus, TheCgroupV2PathIsTheZeroLine) {
  EXPECT_EQ(CgroupV2Path("12:memory:/a\n0::/user.slice/app.scope\n"), "/user.slice/app.scope");
  EXPECT_EQ(CgroupV2Path("0::/\n"), "/");
  EXPECT_EQ(CgroupV2Path("4:memory:/x\n1:cpu:/\n"), std::nullopt);
}

class FakeCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("snakepit-cgroup-" + std::to_string(::getpid()) + "-" +
                                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "outer" / "inner");
    Write("self", "0::/outer/inner\n");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& relative, const std::string& text) { std::ofstream(root_ / relative) << text; }
  int Usable() { return UsableCpus((root_ / "fs").string(), (root_ / "self").string()); }
  static int Affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    return ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  }

  std::filesystem::path root_;
};

TEST_F(FakeCgroup, TheTightestQuotaOnThePathToTheRootBounds) {
  std::filesystem::create_directories(root_ / "fs" / "outer" / "inner");
  Write("fs/outer/inner/cpu.max", "max 100000\n");
  Write("fs/outer/cpu.max", "100000 100000\n");  // 1 CPU for the parent
  Write("fs/cpu.max", "max 100000\n");
  EXPECT_EQ(Usable(), 1);
}

TEST_F(FakeCgroup, NoQuotaLeavesTheAffinityMask) {
  std::filesystem::create_directories(root_ / "fs" / "outer" / "inner");
  Write("fs/outer/inner/cpu.max", "max 100000\n");
  EXPECT_EQ(Usable(), Affinity());
  // Nothing readable at all: the affinity mask too.
  std::filesystem::remove_all(root_ / "fs");
  EXPECT_EQ(Usable(), Affinity());
  EXPECT_EQ(UsableCpus((root_ / "fs").string(), (root_ / "no-such-file").string()), Affinity());
}

}  // namespace
}  // namespace snakepit::internal
