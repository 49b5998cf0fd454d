// Warm start from a template (start_method, docs/lifecycle.md): forked
// workers serve on both transports and are this process's children; the
// template's death leaves them serving and a new template is started;
// BLAS stays pinned in a forked process-profile worker; an adapter that is
// not forkable falls back to spawn (auto) or fails the start (template);
// recycled workers are forked too.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lifecycle/proc_memory.h"
#include "process/process_tree.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::milliseconds(30'000);

// The parent pid of `pid`, from /proc/<pid>/stat; 0 if it is gone.
pid_t ParentOf(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(line.substr(paren + 2));
  char state;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

// The pool's workers (a copy: a range-for over a member of the temporary
// StatusOr would dangle).
std::vector<WorkerStats> PerWorker(PoolManager& pools, const std::string& pool) {
  return pools.stats(pool)->per_worker;
}

// The distinct template pids the pool's live workers were forked from.
std::set<int> TemplatePids(PoolManager& pools, const std::string& pool) {
  std::set<int> pids;
  for (const WorkerStats& w : PerWorker(pools, pool)) {
    if (w.template_pid != 0) pids.insert(w.template_pid);
  }
  return pids;
}

nlohmann::json TemplatePool(const std::string& name, int size, const std::string& transport) {
  nlohmann::json pool = {{"name", name}, {"pool_size", size}, {"start_method", "template"}};
  if (!transport.empty()) pool["worker_transport"] = transport;
  return pool;
}

class TemplateTransportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TemplateTransportTest, ForkedWorkersServeAndAreOurChildren) {
  auto pools = testing::StartOrDie(testing::MakeConfig({TemplatePool("t", 3, GetParam())}));
  ASSERT_NE(pools, nullptr);
  const PoolStats stats = *pools->stats("t");
  ASSERT_EQ(stats.workers, 3);
  for (const WorkerStats& w : stats.per_worker) {
    EXPECT_TRUE(w.forked) << "worker " << w.id;
    EXPECT_NE(w.template_pid, 0);
    EXPECT_NE(w.template_pid, w.pid);
    EXPECT_EQ(ParentOf(w.pid), ::getpid()) << "a forked worker is the host's child (CLONE_PARENT)";
    EXPECT_EQ(ParentOf(w.template_pid), ::getpid());
    // A forked worker takes the shared memory as a spawned one does.
    EXPECT_EQ(w.transport, GetParam()) << w.transport_note;
  }
  EXPECT_EQ(TemplatePids(*pools, "t").size(), 1u) << "one template per pool";
  std::set<int> served_by;
  for (int i = 0; i < 12; ++i) {
    absl::StatusOr<nlohmann::json> r = pools->execute("t", "ping", nlohmann::json::object());
    ASSERT_TRUE(r.ok()) << r.status();
    served_by.insert((*r)["pid"].get<int>());
  }
  for (int pid : served_by) EXPECT_THAT(testing::WorkerPids(*pools, "t"), ::testing::Contains(pid));
  absl::StatusOr<nlohmann::json> r = pools->execute("t", "add", {{"a", 2}, {"b", 3}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 5);
  pools->shutdown();
  EXPECT_FALSE(testing::ProcessAlive(stats.per_worker[0].template_pid)) << "no template outlives shutdown()";
  EXPECT_TRUE(testing::ZombieChildren().empty());
}

INSTANTIATE_TEST_SUITE_P(Transports, TemplateTransportTest, ::testing::Values("shm", "native", "grpcio"));

TEST(Template, ItsDeathLeavesWorkersServingAndANewOneIsStarted) {
  auto pools = testing::StartOrDie(testing::MakeConfig({TemplatePool("t", 2, "")}));
  ASSERT_NE(pools, nullptr);
  const std::set<int> first = TemplatePids(*pools, "t");
  ASSERT_EQ(first.size(), 1u);
  const int old_template = *first.begin();
  const std::vector<int> workers = testing::WorkerPids(*pools, "t");
  ASSERT_EQ(::kill(old_template, SIGKILL), 0);
  ASSERT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(old_template); }, kPatience));
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<nlohmann::json> r = pools->execute("t", "ping", nlohmann::json::object());
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(testing::WorkerPids(*pools, "t"), workers) << "no worker died with the template";

  // A recycled worker is forked from the new template.
  ASSERT_TRUE(pools->recycle_worker("t", pools->stats("t")->per_worker[0].id).ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const WorkerStats& w : PerWorker(*pools, "t")) {
          if (w.state == WorkerState::kReady && w.template_pid != 0 && w.template_pid != old_template) return true;
        }
        return false;
      },
      kPatience));
  for (const WorkerStats& w : PerWorker(*pools, "t")) {
    if (w.template_pid != old_template) {
      EXPECT_TRUE(w.forked);
      EXPECT_TRUE(testing::ProcessAlive(w.template_pid)) << "the new template runs";
    }
  }
}

TEST(Template, RecycledWorkersAreForked) {
  auto pools = testing::StartOrDie(testing::MakeConfig({TemplatePool("t", 1, "")}));
  ASSERT_NE(pools, nullptr);
  const WorkerStats before = pools->stats("t")->per_worker.at(0);
  ASSERT_TRUE(before.forked);
  ASSERT_TRUE(pools->recycle_worker("t", before.id).ok());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const PoolStats s = *pools->stats("t");
        return s.workers == 1 && s.per_worker.size() == 1 && s.per_worker[0].id != before.id &&
               s.per_worker[0].state == WorkerState::kReady;
      },
      kPatience));
  const WorkerStats after = pools->stats("t")->per_worker.at(0);
  EXPECT_TRUE(after.forked);
  EXPECT_EQ(after.template_pid, before.template_pid) << "the same template, still running";
  EXPECT_EQ(ParentOf(after.pid), ::getpid());
}

// The memory recycler and the tree kill work on a forked worker's own tree:
// the template is its sibling, not an ancestor or descendant. A worker
// SIGKILLed with its descendants (call_kill_timeout) takes the processes it
// started with it, and the template lives on.
TEST(Template, AccountingAndTreeKillSpareTheTemplate) {
  testing::EventLog log;
  nlohmann::json pool = TemplatePool("t", 1, "");
  pool["adapter"] = "escapes:EscapesAdapter";
  pool["call_kill_timeout"] = 0.3;
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}), log.Handler());
  ASSERT_NE(pools, nullptr);
  const WorkerStats worker = pools->stats("t")->per_worker.at(0);
  ASSERT_TRUE(worker.forked);
  absl::StatusOr<nlohmann::json> sleeper = pools->execute("t", "spawn_sleeper", nlohmann::json::object());
  ASSERT_TRUE(sleeper.ok()) << sleeper.status();
  const pid_t sleeper_pid = sleeper->get<pid_t>();

  absl::StatusOr<std::vector<pid_t>> tree = internal::ListDescendants(worker.pid);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_THAT(*tree, ::testing::Contains(sleeper_pid));
  EXPECT_THAT(*tree, ::testing::Not(::testing::Contains(worker.template_pid)));
  absl::StatusOr<std::vector<pid_t>> template_tree = internal::ListDescendants(worker.template_pid);
  ASSERT_TRUE(template_tree.ok()) << template_tree.status();
  EXPECT_THAT(*template_tree, ::testing::Not(::testing::Contains(worker.pid))) << "workers are not its children";
  absl::StatusOr<internal::ProcessMemory> memory = internal::ReadProcessTreeMemory(worker.pid);
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_GT(memory->pss_bytes, 0);

  absl::StatusOr<nlohmann::json> r =
      pools->execute("t", "hang", {{"seconds", 30}}, CallOptions{.timeout = std::chrono::milliseconds(300)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  ASSERT_TRUE(log.WaitFor(EventType::kWorkerRecycled, "call_kill_timeout", 1, kPatience));
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(worker.pid); }, kPatience));
  EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(sleeper_pid); }, kPatience));
  if (testing::ProcessAlive(sleeper_pid)) ::kill(sleeper_pid, SIGKILL);
  EXPECT_TRUE(testing::ProcessAlive(worker.template_pid)) << "the tree kill spared the template";
  // Its replacement is forked from the same template.
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const PoolStats s = *pools->stats("t");
        return s.workers == 1 && s.per_worker.back().id != worker.id && s.per_worker.back().forked;
      },
      kPatience));
}

TEST(Template, ProcessProfileWorkerHasBlasPinned) {
  // numpy (OpenBLAS) is imported in the template, before any fork: the
  // profile's variables must be there already.
  nlohmann::json pool = TemplatePool("t", 1, "");
  pool["adapter"] = "numpy_at_import:NumpyAtImport";
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}));
  ASSERT_NE(pools, nullptr);
  ASSERT_TRUE(pools->stats("t")->per_worker.at(0).forked);
  absl::StatusOr<nlohmann::json> r = pools->execute("t", "threads_info", nlohmann::json::object());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["env"]["OPENBLAS_NUM_THREADS"], "1");
  int blas_pools = 0;
  for (const nlohmann::json& p : (*r)["threadpools"]) {
    if (p.value("user_api", "") != "blas") continue;
    ++blas_pools;
    EXPECT_EQ(p.value("num_threads", 0), 1) << p.dump();
  }
  EXPECT_GE(blas_pools, 1) << "threadpoolctl sees OpenBLAS: " << r->dump();
}

// Captures the library's log for the test's duration.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), previous_(logger()) {
    auto captured = std::make_shared<spdlog::logger>("capture", sink_);
    captured->set_level(spdlog::level::debug);
    set_logger(captured);
  }
  ~LogCapture() { set_logger(previous_); }
  std::string Text() const {
    std::string all;
    for (const std::string& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(Template, UnforkableAdapterIsSpawnedUnderAutoAndSaysWhy) {
  LogCapture log;
  nlohmann::json pool = {{"name", "t"}, {"pool_size", 2}, {"start_method", "auto"}};
  pool["adapter"] = "thread_at_import:ThreadAtImport";
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}));
  ASSERT_NE(pools, nullptr);
  for (const WorkerStats& w : PerWorker(*pools, "t")) EXPECT_FALSE(w.forked);
  ASSERT_TRUE(pools->execute("t", "ping", nlohmann::json::object()).ok());
  EXPECT_THAT(log.Text(), HasSubstr("pool 't': workers cannot be forked from a template: 2 threads are running"));
}

TEST(Template, UnforkableAdapterFailsTheStartUnderTemplate) {
  nlohmann::json pool = TemplatePool("t", 1, "");
  pool["adapter"] = "thread_at_import:ThreadAtImport";
  absl::StatusOr<std::unique_ptr<PoolManager>> pools = PoolManager::Start(testing::MakeConfig({pool}));
  ASSERT_FALSE(pools.ok());
  EXPECT_EQ(pools.status().code(), absl::StatusCode::kFailedPrecondition) << pools.status();
  EXPECT_THAT(pools.status().message(), HasSubstr("workers cannot be forked from a template: 2 threads are running"));
}

TEST(Template, ThreadProfileWorkersAreForkedAndRunCallsConcurrently) {
  nlohmann::json pool = TemplatePool("t", 1, "");
  pool["profile"] = "thread";
  pool["threads_per_worker"] = 2;
  auto pools = testing::StartOrDie(testing::MakeConfig({pool}));
  ASSERT_NE(pools, nullptr);
  ASSERT_TRUE(pools->stats("t")->per_worker.at(0).forked);
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 2; ++i) calls.push_back(pools->execute_async("t", "sleep", {{"ms", 300}}));
  std::vector<nlohmann::json> results;
  for (auto& call : calls) {
    absl::StatusOr<nlohmann::json> r = call.get();
    ASSERT_TRUE(r.ok()) << r.status();
    results.push_back(*r);
  }
  // Both ran at once, on two handler threads of the one forked process.
  EXPECT_LT(results[0]["start_ns"].get<int64_t>(), results[1]["end_ns"].get<int64_t>());
  EXPECT_LT(results[1]["start_ns"].get<int64_t>(), results[0]["end_ns"].get<int64_t>());
  EXPECT_NE(results[0]["thread"], results[1]["thread"]);
}

TEST(Template, SpawnIsTheDefault) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "s"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  EXPECT_FALSE(pools->stats("s")->per_worker.at(0).forked);
}

}  // namespace
}  // namespace snakepit
