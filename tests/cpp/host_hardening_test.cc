// The library holds up whatever the host application does to process-wide
// state it shares with it: SIGCHLD disposition, reaping children, the file
// descriptor limit. Each case restores what it changed; ctest runs every
// case in a process of its own.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// CPU seconds this process has used, all threads together.
double ProcessCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Shuts `pools` down on another thread; if that does not return within
// `bound`, the test cannot go on (the process would hang in a destructor):
// report and exit.
void ShutdownWithin(std::unique_ptr<PoolManager> pools, std::chrono::seconds bound) {
  auto done = std::async(std::launch::async, [p = std::move(pools)]() mutable { p.reset(); });
  if (done.wait_for(bound) != std::future_status::ready) {
    ADD_FAILURE() << "shutdown did not return within " << bound.count() << " s";
    std::fflush(nullptr);
    std::_Exit(1);
  }
}

// Kills a worker of a 2-worker pool and checks, within bounds, that the
// pool notices, replaces it and shuts down, without spinning a CPU.
void KillReplaceAndShutDown() {
  testing::EventLog log;
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}), log.Handler());
  ASSERT_NE(pools, nullptr);
  ASSERT_TRUE(pools->execute("p", "ping").ok());
  const std::vector<int> before = testing::WorkerPids(*pools, "p");
  ASSERT_EQ(before.size(), 2u);

  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerCrashed, "", 1, milliseconds(3000)))
      << "the death of a worker reaped by someone else must be seen at once";
  const std::vector<Event> crashed = log.Of(EventType::kWorkerCrashed);
  EXPECT_THAT(crashed.at(0).message,
              ::testing::AnyOf(::testing::HasSubstr("reaped by someone else"), ::testing::HasSubstr("signal 9")));
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const std::vector<int> now = testing::WorkerPids(*pools, "p");
        return now.size() == 2 && std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      milliseconds(15'000)))
      << "the dead worker was not replaced";
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // A replacement costs little host CPU; a thread spinning on a readable
  // pidfd costs a whole core for as long as it spins.
  EXPECT_LT(ProcessCpuSeconds() - cpu0, 0.5 * wall + 0.5) << "threads spin after a worker's death";
  ASSERT_TRUE(pools->execute("p", "ping").ok());
  ShutdownWithin(std::move(pools), std::chrono::seconds(20));
}

TEST(HostHardening, SigchldIgnoredDoesNotHangOrSpin) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGCHLD, &ignore, &old), 0);
  KillReplaceAndShutDown();
  ::sigaction(SIGCHLD, &old, nullptr);
}

TEST(HostHardening, AnotherThreadReapingEveryChildDoesNotHangOrSpin) {
  std::atomic<bool> stop{false};
  std::atomic<int> reaped{0};
  std::thread reaper([&] {
    while (!stop.load()) {
      int status = 0;
      if (::waitpid(-1, &status, 0) > 0) {
        reaped.fetch_add(1);
      } else {
        std::this_thread::sleep_for(milliseconds(5));  // ECHILD: no child yet
      }
    }
  });
  KillReplaceAndShutDown();
  stop.store(true);
  reaper.join();  // every child is gone: waitpid returns ECHILD at once
  EXPECT_GT(reaped.load(), 0) << "the test's reaper never reaped anything";
}

}  // namespace
}  // namespace snakepit
