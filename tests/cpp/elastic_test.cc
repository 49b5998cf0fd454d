// Elastic pools end to end, with real Python workers: resize under load,
// autoscaling on a burst, affinity hint and strict, and a key whose worker
// dies mid-session. elastic_policy_test.cc and autoscale_policy_test.cc
// test the same rules without Python, step by step.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "snakepit/snakepit.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;
using testing::MakeConfig;
using testing::StartOrDie;
using testing::WaitFor;

// Callers that run `sleep` calls in a loop until stopped, counting every
// result; no call may fail.
class Load {
 public:
  Load(PoolManager& pools, int callers, int sleep_ms) {
    for (int i = 0; i < callers; ++i) {
      threads_.emplace_back([this, &pools, sleep_ms] {
        while (!stop_.load()) {
          absl::StatusOr<nlohmann::json> r =
              pools.execute("elastic", "sleep", {{"ms", sleep_ms}}, {.timeout = std::chrono::seconds(60)});
          if (r.ok()) {
            ok_.fetch_add(1);
          } else {
            failed_.fetch_add(1);
            std::lock_guard<std::mutex> lock(mu_);
            errors_.push_back(std::string(r.status().message()));
          }
        }
      });
    }
  }
  ~Load() { Stop(); }
  void Stop() {
    stop_.store(true);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int ok() const { return ok_.load(); }
  int failed() const { return failed_.load(); }
  std::string FirstError() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_.empty() ? "" : errors_.front();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::mutex mu_;
  std::vector<std::string> errors_;
  std::vector<std::thread> threads_;
};

int CallsAtLeast(const Load& load, int n) { return load.ok() >= n; }

TEST(ElasticTest, ResizeUpAndDownUnderLoadFailsNoCall) {
  EventLog log;
  auto pools = StartOrDie(MakeConfig({{{"name", "elastic"}, {"pool_size", 2}, {"drain_timeout", 30}}}), log.Handler());
  ASSERT_NE(pools, nullptr);
  Load load(*pools, 4, 20);
  ASSERT_TRUE(WaitFor([&] { return CallsAtLeast(load, 20); }, milliseconds(60'000)));
  ASSERT_TRUE(pools->resize("elastic", 4, std::chrono::seconds(60)).ok());
  EXPECT_EQ(pools->stats("elastic")->workers, 4);
  const int before_shrink = load.ok();
  ASSERT_TRUE(WaitFor([&] { return CallsAtLeast(load, before_shrink + 20); }, milliseconds(60'000)));
  absl::Status shrink = pools->resize("elastic", 1, std::chrono::seconds(60));
  ASSERT_TRUE(shrink.ok()) << shrink;
  const int before_grow = load.ok();
  ASSERT_TRUE(WaitFor([&] { return CallsAtLeast(load, before_grow + 10); }, milliseconds(60'000)));
  ASSERT_TRUE(pools->resize("elastic", 3, std::chrono::seconds(60)).ok());
  const int after = load.ok();
  ASSERT_TRUE(WaitFor([&] { return CallsAtLeast(load, after + 20); }, milliseconds(60'000)));
  load.Stop();
  EXPECT_EQ(load.failed(), 0) << load.FirstError();
  const PoolStats stats = *pools->stats("elastic");
  EXPECT_EQ(stats.workers, 3);
  EXPECT_EQ(stats.target_workers, 3);
  EXPECT_EQ(stats.scale_ups, 2u);
  EXPECT_EQ(stats.scale_downs, 1u);
  EXPECT_EQ(stats.recycles.at("scale_down"), 3u);
  EXPECT_EQ(log.Of(EventType::kPoolScaling, "manual").size(), 3u);
  // The sizes in the metrics and the inspector's text.
  Inspector inspector(*pools);
  const InspectionReport report = inspector.Inspect();
  const std::string metrics = report.ToPrometheus();
  EXPECT_NE(metrics.find("snakepit_pool_target_workers{pool=\"elastic\"} 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("snakepit_pool_current_workers{pool=\"elastic\"} 3\n"), std::string::npos);
  EXPECT_NE(metrics.find("snakepit_pool_desired_workers{pool=\"elastic\"} 3\n"), std::string::npos);
  EXPECT_NE(metrics.find("snakepit_pool_scale_downs_total{pool=\"elastic\"} 1\n"), std::string::npos);
  EXPECT_NE(report.ToText().find("size target 3  current 3  desired 3"), std::string::npos) << report.ToText();
  EXPECT_TRUE(absl::IsInvalidArgument(pools->resize("elastic", 0)));
  EXPECT_TRUE(absl::IsNotFound(pools->resize("nope", 1)));
}

TEST(ElasticTest, AutoscalesUpOnABurstAndDownWhenIdle) {
  EventLog log;
  auto pools = StartOrDie(MakeConfig({{{"name", "elastic"},
                                       {"autoscale",
                                        {{"min_workers", 1},
                                         {"max_workers", 3},
                                         {"scale_up_delay", 1},
                                         {"scale_down_delay", 60},
                                         {"idle_timeout", 1},
                                         {"sample_interval", 0.05}}}}}),
                          log.Handler());
  ASSERT_NE(pools, nullptr);
  EXPECT_EQ(pools->stats("elastic")->workers, 1);
  EXPECT_EQ(pools->stats("elastic")->max_workers, 3);
  {
    Load burst(*pools, 6, 50);
    ASSERT_TRUE(WaitFor([&] { return pools->stats("elastic")->workers == 3; }, milliseconds(60'000)));
    const int served = burst.ok();
    ASSERT_TRUE(WaitFor([&] { return CallsAtLeast(burst, served + 30); }, milliseconds(60'000)));
    burst.Stop();
    EXPECT_EQ(burst.failed(), 0) << burst.FirstError();
  }
  ASSERT_TRUE(WaitFor([&] { return pools->stats("elastic")->workers == 1; }, milliseconds(60'000)));
  const auto load_events = log.Of(EventType::kPoolScaling, "load");
  const auto idle_events = log.Of(EventType::kPoolScaling, "idle");
  ASSERT_EQ(load_events.size(), 1u);  // one move up, straight to the size
  EXPECT_EQ(load_events[0].previous_size, 1);
  EXPECT_EQ(load_events[0].target_size, 3);
  EXPECT_NE(load_events[0].message.find("queued"), std::string::npos) << load_events[0].message;
  ASSERT_EQ(idle_events.size(), 1u);
  EXPECT_EQ(idle_events[0].target_size, 1);
  const PoolStats stats = *pools->stats("elastic");
  EXPECT_EQ(stats.target_workers, 1);
  EXPECT_EQ(stats.desired_workers, 1);
}

int PidOf(const absl::StatusOr<nlohmann::json>& r) { return r.ok() ? (*r)["pid"].get<int>() : -1; }

TEST(ElasticTest, AffinityHintAndStrictKeepASessionOnItsWorker) {
  auto pools = StartOrDie(MakeConfig({{{"name", "elastic"}, {"pool_size", 3}}}));
  ASSERT_NE(pools, nullptr);
  const CallOptions hint{.affinity_key = "session-1"};
  const int home = PidOf(pools->execute("elastic", "ping", {}, hint));
  ASSERT_GT(home, 0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(PidOf(pools->execute("elastic", "ping", {}, hint)), home);
  // Strict: concurrent calls of the key all run on its worker, one at a
  // time, while the other workers stay free.
  const CallOptions strict{.affinity_key = "session-1", .affinity = Affinity::kStrict};
  std::vector<std::future<absl::StatusOr<nlohmann::json>>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(pools->execute_async("elastic", "sleep", {{"ms", 50}}, strict));
  for (auto& c : calls) EXPECT_EQ(PidOf(c.get()), home);
  // Fail fast: with its worker busy, the caller hears so at once.
  const CallOptions fail_fast{.affinity_key = "session-1", .affinity = Affinity::kStrictFailFast};
  auto busy = pools->execute_async("elastic", "sleep", {{"ms", 1000}}, strict);
  ASSERT_TRUE(WaitFor([&] { return pools->stats("elastic")->in_flight == 1; }, milliseconds(10'000)));
  absl::StatusOr<nlohmann::json> refused = pools->execute("elastic", "ping", {}, fail_fast);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_EQ(PidOf(busy.get()), home);
  const PoolStats stats = *pools->stats("elastic");
  EXPECT_EQ(stats.affinity_keys, 1);
  int keys = 0;
  int home_id = -1;
  for (const WorkerStats& w : stats.per_worker) {
    if (w.pid != home) continue;
    keys += w.affinity_keys;
    home_id = w.id;
  }
  EXPECT_EQ(keys, 1);
  const std::string metrics = Inspector(*pools).Inspect().ToPrometheus();
  bool found = false;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    found = found || (absl::StartsWith(line, "snakepit_worker_affinity_keys{") &&
                      absl::EndsWith(line, absl::StrCat("worker=\"", home_id, "\"} 1")));
  }
  EXPECT_TRUE(found) << metrics;
}

TEST(ElasticTest, KeyReHomesWhenItsWorkerDiesMidSession) {
  auto pools = StartOrDie(MakeConfig({{{"name", "elastic"}, {"pool_size", 2}}}));
  ASSERT_NE(pools, nullptr);
  const CallOptions strict{.affinity_key = "model-a", .affinity = Affinity::kStrict};
  const int home = PidOf(pools->execute("elastic", "ping", {}, strict));
  ASSERT_GT(home, 0);
  // Mid-session: a call of the key is running when its worker dies.
  auto running = pools->execute_async("elastic", "sleep", {{"ms", 5000}}, strict);
  ASSERT_TRUE(WaitFor([&] { return pools->stats("elastic")->in_flight == 1; }, milliseconds(10'000)));
  ASSERT_EQ(::kill(home, SIGKILL), 0);
  EXPECT_TRUE(absl::IsUnavailable(running.get().status()));
  // The key's next calls go to a live worker and stay there.
  int new_home = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        new_home = PidOf(pools->execute("elastic", "ping", {}, strict));
        return new_home > 0;
      },
      milliseconds(30'000)));
  EXPECT_NE(new_home, home);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PidOf(pools->execute("elastic", "ping", {}, strict)), new_home);
}

}  // namespace
}  // namespace snakepit
