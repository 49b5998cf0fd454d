// The Inspector's figures against a known load and against /proc, and its
// Prometheus output read back by a real parser (prometheus_client).
#include "snakepit/inspector.h"

#include <unistd.h>

#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;

const PoolReport& PoolOf(const InspectionReport& report, const std::string& name) {
  for (const PoolReport& p : report.pools) {
    if (p.stats.name == name) return p;
  }
  ADD_FAILURE() << "no pool " << name;
  static const PoolReport none;
  return none;
}

TEST(Inspector, FiguresMatchAKnownLoad) {
  auto pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}}}));
  Inspector inspector(*pools, {.min_window = milliseconds(60'000)});  // no window rules here
  // Two calls run, two wait: both workers are busy for 1.5 s.
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(pools->execute_async("p", "sleep", {{"ms", 1500}}));
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->queued == 2; }, milliseconds(5'000)));

  const InspectionReport busy = inspector.Inspect();
  const PoolReport& p = PoolOf(busy, "p");
  EXPECT_EQ(p.stats.profile, Profile::kProcess);
  EXPECT_EQ(p.stats.workers, 2);
  EXPECT_EQ(p.stats.threads_per_worker, 1);
  EXPECT_EQ(p.stats.capacity, 2);
  EXPECT_EQ(p.stats.in_flight, 2);
  EXPECT_EQ(p.stats.queued, 2);
  EXPECT_EQ(p.stats.queue_high_water, 2);
  ASSERT_EQ(p.workers.size(), 2u);
  std::int64_t rss_sum = 0;
  for (const WorkerReport& w : p.workers) {
    EXPECT_EQ(w.stats.in_flight, 1);
    EXPECT_TRUE(w.report_error.empty()) << w.report_error;
    EXPECT_GE(w.threads, 1);
    // Measured from the worker's own /proc entry, not ours.
    const std::int64_t vm_rss = testing::VmRssBytes(w.stats.pid);
    ASSERT_GT(vm_rss, 0);
    EXPECT_NEAR(static_cast<double>(w.stats.rss_bytes), static_cast<double>(vm_rss), 0.2 * vm_rss);
    EXPECT_GT(w.stats.pss_bytes, 0);
    EXPECT_LE(w.stats.pss_bytes, w.stats.rss_bytes);
    EXPECT_NE(w.stats.pid, getpid());
    rss_sum += w.stats.rss_bytes;
  }
  EXPECT_EQ(p.rss_bytes, rss_sum);

  for (auto& c : calls) ASSERT_TRUE(c.get().ok());
  const InspectionReport done = inspector.Inspect();
  const PoolReport& after = PoolOf(done, "p");
  EXPECT_EQ(after.stats.in_flight, 0);
  EXPECT_EQ(after.stats.queued, 0);
  EXPECT_EQ(after.requests, 4u);
  EXPECT_EQ(after.stats.latency.count, 4u);
  // Two calls took 1.5 s, two waited 1.5 s more: p50 covers the first pair,
  // p99 the second; each within the histogram's 9% above the truth.
  EXPECT_GE(after.stats.latency.p50, milliseconds(1'500));
  EXPECT_LE(after.stats.latency.p50, milliseconds(1'900));
  EXPECT_GE(after.stats.latency.p99, milliseconds(3'000));
  EXPECT_LE(after.stats.latency.p99, milliseconds(3'700));
  // Both slots were busy across both windows: 6 s of busy time in total.
  const double busy_s = std::chrono::duration<double>(after.stats.busy_time).count();
  EXPECT_NEAR(busy_s, 6.0, 0.6);
  EXPECT_GT(std::chrono::duration<double>(after.stats.queue_nonempty_time).count(), 1.2);

  const nlohmann::json j = done.ToJson();
  ASSERT_EQ(j["pools"].size(), 1u);
  EXPECT_EQ(j["pools"][0]["available_capacity"], 2);
  EXPECT_EQ(j["pools"][0]["per_worker"].size(), 2u);
  const std::string text = done.ToText();
  EXPECT_NE(text.find("pool p  process profile  2 workers x 1  capacity 2"), std::string::npos) << text;
  EXPECT_NE(text.find("WORKER"), std::string::npos) << text;
}

TEST(Inspector, UtilisationOfAThreadPoolCountsEverySlot) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 4}}}));
  Inspector inspector(*pools);
  (void)inspector.Inspect();  // the window starts now
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 2; ++i) calls.push_back(pools->execute_async("t", "sleep", {{"ms", 1000}}));
  for (auto& c : calls) ASSERT_TRUE(c.get().ok());
  const PoolReport p = PoolOf(inspector.Inspect(), "t");
  EXPECT_EQ(p.stats.capacity, 4);
  // 2 of 4 slots busy for (nearly) the whole window.
  // (The window also holds the time to submit and to inspect: a little
  // under 2 and 0.5 on a busy machine.)
  EXPECT_NEAR(p.mean_concurrency, 1.9, 0.5);
  EXPECT_NEAR(p.utilisation, 0.47, 0.13);
  EXPECT_LT(p.cpu_cores, 0.2);  // sleeping uses no CPU
}

// Runs prometheus_client's parser over `text`; returns "name{labels} value"
// lines, sorted, or the parser's error.
std::string ParsePrometheus(const std::string& text) {
  // One file per process: ctest runs the tests of this file in parallel.
  const std::string path = ::testing::TempDir() + "/snakepit_metrics_" + std::to_string(::getpid()) + ".txt";
  std::ofstream(path) << text;
  const std::string cmd = std::string(SNAKEPIT_TEST_PYTHON) +
                          " -c 'import sys\n"
                          "from prometheus_client.parser import text_string_to_metric_families as parse\n"
                          "out = []\n"
                          "for fam in parse(open(sys.argv[1]).read()):\n"
                          "    for s in fam.samples:\n"
                          "        labels = \",\".join(f\"{k}={v}\" for k, v in sorted(s.labels.items()))\n"
                          "        out.append(f\"{fam.type} {s.name}{{{labels}}} {s.value:g}\")\n"
                          "print(\"\\n\".join(sorted(out)))' " +
                          path;
  const auto [status, output] = testing::RunCommand(cmd);
  ::unlink(path.c_str());
  return status == 0 ? output : "parser failed: " + output;
}

TEST(Inspector, PrometheusOutputParsesWithARealParser) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "p"}, {"pool_size", 2}},
                           {{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 3}}}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pools->execute("p", "ping").ok());
  ASSERT_FALSE(pools->execute("p", "raise_error").ok());
  const std::string text = Inspector(*pools).Inspect().ToPrometheus();
  const std::string parsed = ParsePrometheus(text);
  ASSERT_EQ(parsed.find("parser failed"), std::string::npos) << parsed << "\n---\n" << text;
  for (const char* expected : {
           "gauge snakepit_pool_capacity{pool=p} 2",
           "gauge snakepit_pool_capacity{pool=t} 3",
           "gauge snakepit_pool_threads_per_worker{pool=t} 3",
           "counter snakepit_requests_total{pool=p} 4",
           "counter snakepit_request_errors_total{pool=p} 1",
           "histogram snakepit_call_duration_seconds_count{pool=p} 4",
           "histogram snakepit_call_duration_seconds_bucket{le=+Inf,pool=p} 4",
           "gauge snakepit_pool_info{pool=p,profile=process} 1",
       }) {
    EXPECT_NE(parsed.find(expected), std::string::npos) << expected << "\n---\n" << parsed;
  }
  EXPECT_NE(parsed.find("gauge snakepit_worker_proportional_memory_bytes{pool=p,worker="), std::string::npos) << parsed;
  EXPECT_EQ(parsed.find("pid="), std::string::npos) << "a pid label starts a new series at every restart\n" << parsed;
}

TEST(Inspector, PrometheusLabelValuesAreEscaped) {
  // Pool names from the config cannot hold these characters, but recycle
  // reasons and future labels might: the writer must escape any value.
  InspectionReport report;
  PoolReport pool;
  pool.stats.name = "odd\\name \"quoted\"";
  pool.stats.recycles["multi\nline"] = 2;
  report.pools.push_back(pool);
  const std::string parsed = ParsePrometheus(report.ToPrometheus());
  ASSERT_EQ(parsed.find("parser failed"), std::string::npos) << parsed;
  EXPECT_NE(parsed.find("counter snakepit_worker_recycles_total{pool=odd\\name \"quoted\",reason=multi\nline} 2"),
            std::string::npos)
      << parsed;
}

}  // namespace
}  // namespace snakepit
