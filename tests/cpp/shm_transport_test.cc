// The shared-memory data plane end to end, with real workers: what it
// carries beyond the transport suites (which run on it by default:
// tests/cpp/CMakeLists.txt), a worker that scribbles over its region, and
// the fallback to gRPC where the kernel refuses shared memory.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <future>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shm/shm_ring.h"
#include "test_support.h"
#include "worker/worker_spec.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

// Attachments well past one ring (2 MiB), empty ones, and many at once,
// both ways, bytes and order intact: they travel as the frames' sections,
// outside the protobuf messages.
TEST(ShmTransport, CarriesAttachmentsLargerThanItsRings) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::ShmPool({{"name", "p"}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  EXPECT_EQ(pools->stats("p")->transport, "shm");
  std::string big(9 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  CallOptions options;
  options.attachments = {big, "", "small"};
  absl::StatusOr<Reply> reply = pools->call("p", "echo_attachments", nlohmann::json::object(), options);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->attachments.size(), 3u);
  EXPECT_TRUE(reply->attachments[0] == big) << "the 9 MiB attachment came back changed";
  EXPECT_EQ(reply->attachments[1], "");
  EXPECT_EQ(reply->attachments[2], "small");
  EXPECT_EQ(reply->result["sizes"], nlohmann::json({9 << 20, 0, 5})) << "the worker saw other attachments";

  CallOptions many;
  for (int i = 0; i < 2000; ++i) many.attachments.push_back(std::string(i % 7, static_cast<char>('a' + i % 26)));
  const std::vector<std::string> sent = many.attachments;
  reply = pools->call("p", "echo_attachments", nlohmann::json::object(), std::move(many));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->attachments, sent);
}

// A thread-profile worker runs an Execute on the thread that read it; a
// second call, which comes while no thread reads, is read by a stand-in
// (the channel's doorbell) and runs beside the first, not after it.
TEST(ShmTransport, ASecondCallIsReadAndRunWhileTheFirstRuns) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "t"},
                                                         {"profile", "thread"},
                                                         {"threads_per_worker", 2},
                                                         {"pool_size", 1},
                                                         {"worker_transport", "shm"}}}));
  ASSERT_NE(pools, nullptr);
  std::stop_source stop;
  auto first = pools->execute_async("t", "sleep", {{"ms", 30'000}}, {.stop_token = stop.get_token()});
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("t")->in_flight == 1; }, milliseconds(10'000)));
  // Past the worker's read of the first call (a call already waiting when
  // the reader stepped away is found at once, doorbell or not).
  absl::SleepFor(absl::Milliseconds(300));
  // Without the doorbell, a stand-in would find it only when it looks
  // again (every 10 s).
  const absl::Time start = absl::Now();
  absl::StatusOr<nlohmann::json> second = pools->execute("t", "ping");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "the second call waited for a stand-in to look";
  EXPECT_EQ(first.wait_for(milliseconds(0)), std::future_status::timeout);
  stop.request_stop();
  EXPECT_TRUE(absl::IsCancelled(first.get().status()));
}

// More attachments than a frame's section table can hold (about 65,000
// with the default ring): refused before anything is sent, naming the
// limit; the worker and the pool are untouched.
TEST(ShmTransport, TooManyAttachmentsAreInvalidArgumentNamingTheLimit) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::ShmPool({{"name", "p"}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  const std::vector<int> before = testing::WorkerPids(*pools, "p");
  CallOptions options;
  options.attachments.assign(70'000, std::string());
  absl::StatusOr<Reply> reply = pools->call("p", "echo_attachments", nlohmann::json::object(), std::move(options));
  ASSERT_TRUE(absl::IsInvalidArgument(reply.status())) << reply.status();
  EXPECT_NE(reply.status().message().find("70000 attachments, over the shared-memory transport's limit of"),
            std::string::npos)
      << reply.status();
  EXPECT_TRUE(pools->execute("p", "ping").ok());
  EXPECT_EQ(testing::WorkerPids(*pools, "p"), before);
}

// A worker that overwrites the host's ring with garbage: the host refuses
// the region (no crash, no call answered with garbage), the call fails
// UNAVAILABLE, the health check reports the worker, and the pool replaces
// it.
TEST(ShmTransport, AWorkerThatScribblesOverItsRegionIsReplacedAndHarmsNothingElse) {
  auto pools = testing::StartOrDie(testing::MakeConfig({testing::ShmPool(
      {{"name", "p"}, {"pool_size", 1}, {"health_check_interval", 0.2}, {"health_check_failures", 1}})}));
  ASSERT_NE(pools, nullptr);
  const int victim = testing::WorkerPids(*pools, "p").at(0);
  const internal::WorkerSpec defaults;
  const auto worker_ring = static_cast<std::int64_t>(internal::ShmRing::RegionSize(defaults.shm_ring_bytes));
  absl::StatusOr<nlohmann::json> scribbled = pools->execute("p", "scribble_shm", {{"offset", worker_ring}});
  EXPECT_EQ(scribbled.status().code(), absl::StatusCode::kUnavailable) << scribbled.status();
  EXPECT_NE(scribbled.status().message().find("shared-memory"), std::string::npos) << scribbled.status();
  // Replaced: calls succeed again, on another process.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        absl::StatusOr<nlohmann::json> pid = pools->execute("p", "pid");
        return pid.ok() && pid->get<int>() != victim;
      },
      milliseconds(20'000)));
  EXPECT_EQ(pools->stats("p")->transport, "shm");
}

// Installs a seccomp filter on the calling thread (and the threads and
// processes it starts from then on) that fails memfd_create with ENOSYS,
// as some container sandboxes do.
bool RefuseMemfd() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0;
}

// Where the kernel refuses shared memory, a pool that asked for it runs on
// gRPC, says why in its stats, and works. Runs in a child process: the
// filter cannot be taken off again.
TEST(ShmTransport, FallsBackToGrpcWhereTheKernelRefusesSharedMemory) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!RefuseMemfd()) ::_exit(10);
    auto pools = testing::StartOrDie(testing::MakeConfig({testing::ShmPool({{"name", "p"}, {"pool_size", 2}})}));
    if (pools == nullptr) ::_exit(11);
    const PoolStats stats = *pools->stats("p");
    std::fprintf(stderr, "transport %s; fallback: %s\n", stats.transport.c_str(), stats.transport_fallback.c_str());
    if (stats.transport != "native") ::_exit(12);
    if (stats.transport_fallback.find("memfd_create") == std::string::npos) ::_exit(13);
    for (const WorkerStats& w : stats.per_worker) {
      if (w.transport_note.find("memfd_create") == std::string::npos) ::_exit(14);
    }
    absl::StatusOr<nlohmann::json> echoed = pools->execute("p", "echo", {{"x", 1}});
    if (!echoed.ok() || (*echoed)["x"] != 1) ::_exit(15);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_NE(WEXITSTATUS(status), 10) << "could not install the seccomp filter";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child's output above (exit codes: 11 no pool, 12 not native, "
                                       "13/14 no reason in stats, 15 the call failed)";
}

// "auto" picks shared memory for local workers.
TEST(ShmTransport, AutoPicksSharedMemory) {
  nlohmann::json pool = testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}});
  pool["worker_transport"] = "auto";
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}));
  ASSERT_NE(pools, nullptr);
  const PoolStats stats = *pools->stats("p");
  EXPECT_EQ(stats.transport, "shm");
  EXPECT_TRUE(stats.transport_fallback.empty()) << stats.transport_fallback;
}

}  // namespace
}  // namespace snakepit
