// A synchronous caller on the shared-memory data plane reads its own reply
// from the worker's ring (worker/shm_client.h, "Callers read too"), with
// real workers: no other host thread wakes for it, and a caller that reads
// other calls' messages hands them on without running their callbacks.
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test_support.h"
#include "worker/reply_polling.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// The tids of this process's threads named `name`.
std::vector<pid_t> ThreadsNamed(const std::string& name) {
  std::vector<pid_t> tids;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string got;
    std::getline(comm, got);
    if (got == name) tids.push_back(static_cast<pid_t>(std::stol(entry->d_name)));
  }
  ::closedir(dir);
  return tids;
}

// How often thread `tid` went to sleep (voluntary context switches).
std::int64_t Sleeps(pid_t tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stoll(line.substr(line.find(':') + 1));
  }
  return -1;
}

// 300 synchronous calls, one after the other: the reader thread, which
// used to wake for every reply and then wake the caller, sleeps through
// them (it wakes for its quarter-second look at overdue calls).
TEST(ShmCallerReads, ASynchronousCallWakesNoOtherHostThread) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::ShmPool({{"name", "p"}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  ASSERT_EQ(pools->stats("p")->transport, "shm");
  // The reader thread names itself once it runs, which may be after the
  // pool is ready.
  std::vector<pid_t> readers;
  ASSERT_TRUE(testing::WaitFor([&] { return (readers = ThreadsNamed("snakepit-shm-rx")).size() == 1; },
                               std::chrono::seconds(10)))
      << readers.size() << " threads named snakepit-shm-rx";
  ASSERT_TRUE(pools->execute("p", "ping").ok());  // past the start
  const std::int64_t before = Sleeps(readers[0]);
  constexpr int kCalls = 300;
  for (int i = 0; i < kCalls; ++i) {
    absl::StatusOr<nlohmann::json> echoed = pools->execute("p", "echo", {{"i", i}});
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    ASSERT_EQ((*echoed)["i"], i) << "a reply went to the wrong call";
  }
  // The old path slept exactly once per call. Quiet, this one sleeps a
  // few times in all; on a machine whose cores are taken, a caller that is
  // preempted between its send and its read leaves a reply to the reader
  // thread now and then (2 busy loops on 2 cores: 15-45 times in 300).
  const std::int64_t woken = Sleeps(readers[0]) - before;
  EXPECT_LT(woken, kCalls / 2) << "the reader thread woke " << woken << " times for " << kCalls << " calls";
}

// A caller that reads while another call's messages come (an async call
// and a stream, on a thread-profile worker): each result reaches its own
// caller, and the async call's callback and the stream's chunks never run
// on the synchronous caller's thread.
TEST(ShmCallerReads, OtherCallsMessagesAreHandedOnNotRun) {
  auto pools = testing::StartOrDie(testing::MakeConfig(
      {testing::ShmPool({{"name", "t"}, {"profile", "thread"}, {"threads_per_worker", 4}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  ASSERT_EQ(pools->stats("t")->transport, "shm");
  for (int round = 0; round < 5; ++round) {
    std::promise<std::thread::id> async_thread;
    std::promise<absl::StatusOr<nlohmann::json>> async_result;
    std::atomic<int> chunks{0};
    std::atomic<bool> chunk_on_caller{false};
    std::promise<absl::Status> stream_end;
    std::future<std::thread::id> ran_on = async_thread.get_future();
    std::future<absl::StatusOr<nlohmann::json>> result = async_result.get_future();
    std::future<absl::Status> end = stream_end.get_future();
    const std::thread::id caller = std::this_thread::get_id();
    // Both answer while the synchronous call below waits (it sleeps longer).
    pools->execute_async("t", "sleep", {{"ms", 50}}, {}, [&](absl::StatusOr<Reply> reply) {
      async_thread.set_value(std::this_thread::get_id());
      async_result.set_value(reply.ok() ? absl::StatusOr<nlohmann::json>(reply->result)
                                        : absl::StatusOr<nlohmann::json>(reply.status()));
    });
    pools->execute_stream(
        "t", "count", {{"n", 20}, {"delay_ms", 5}}, {},
        [&](Chunk) {
          chunk_on_caller = chunk_on_caller || std::this_thread::get_id() == caller;
          ++chunks;
        },
        [&](absl::Status status) { stream_end.set_value(status); });
    absl::StatusOr<nlohmann::json> mine = pools->execute("t", "sleep", {{"ms", 400}, {"tag", round}});
    ASSERT_TRUE(mine.ok()) << mine.status();
    EXPECT_EQ((*mine)["tag"], round);
    ASSERT_EQ(result.wait_for(milliseconds(10'000)), std::future_status::ready);
    EXPECT_TRUE(result.get().ok());
    EXPECT_NE(ran_on.get(), caller) << "the caller ran another call's callback";
    ASSERT_EQ(end.wait_for(milliseconds(10'000)), std::future_status::ready);
    EXPECT_TRUE(end.get().ok());
    EXPECT_EQ(chunks.load(), 20);
    EXPECT_FALSE(chunk_on_caller.load()) << "the caller ran a stream's callback";
  }
}

// The calling thread's voluntary context switches over 300 quick calls:
// a caller that polls for its reply (reply_poll_us) catches it without
// sleeping, so it sleeps for few of them; with polling off it sleeps on
// the ring for each.
TEST(ShmCallerReads, APollingCallerDoesNotSleepForAQuickReply) {
  if (internal::ReplyPolling::ProcessCpus() < 2) GTEST_SKIP() << "one CPU: a caller never polls";
  const auto sleeps_over_calls = [](int poll_us) -> std::int64_t {
    auto pools = testing::StartOrDie(
        testing::MakeConfig({testing::ShmPool({{"name", "p"}, {"pool_size", 1}, {"reply_poll_us", poll_us}})}));
    if (pools == nullptr || pools->stats("p")->transport != "shm") return -1;
    const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
    if (!pools->execute("p", "ping").ok()) return -1;
    const std::int64_t before = Sleeps(self);
    for (int i = 0; i < 300; ++i) {
      absl::StatusOr<nlohmann::json> echoed = pools->execute("p", "echo", {{"i", i}});
      if (!echoed.ok() || (*echoed)["i"] != i) return -1;
    }
    return Sleeps(self) - before;
  };
  // 10 ms: long enough for a no-op's reply on a busy machine.
  const std::int64_t polling = sleeps_over_calls(10'000);
  const std::int64_t sleeping = sleeps_over_calls(0);
  ASSERT_GE(polling, 0);
  ASSERT_GE(sleeping, 0);
  EXPECT_LT(polling, 100) << "a polling caller slept " << polling << " times in 300 quick calls";
  EXPECT_GE(sleeping, 200) << "a caller that does not poll slept only " << sleeping << " times in 300 calls";
}

}  // namespace
}  // namespace snakepit
