// Resize and affinity without Python: the real router and supervisor over
// in-memory workers and a fake clock (fake_pool.h). elastic_test.cc proves
// the same behaviours with real Python workers.
#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "fake_pool.h"
#include "gtest/gtest.h"
#include "pool/affinity_table.h"

namespace snakepit::internal {
namespace {

using testing::Eventually;
using testing::FakeClock;
using testing::FakeFleet;

class ElasticPolicyTest : public ::testing::Test {
 protected:
  void Make(int workers, int capacity = 1) {
    PoolConfig config;
    config.name = "p";
    config.pool_size = workers;
    config.drain_timeout = std::chrono::seconds(10);
    config.call_timeout = std::chrono::seconds(10);
    config.queue_timeout = std::chrono::seconds(10);
    config.affinity_max_keys = 3;
    fleet_ = std::make_unique<FakeFleet>(capacity);
    pool_ = testing::MakeFakePool(config, *fleet_, clock_, mu_, events_);
    ASSERT_TRUE(pool_->Start().ok());
  }
  // Submits `command`; its result is recorded as "<command>" or
  // "<CODE>: <message>".
  void Submit(const std::string& command, std::string key = "", Affinity mode = Affinity::kHint) {
    CallOptions options;
    options.affinity_key = std::move(key);
    options.affinity = mode;
    pool_->Submit(command, "{}", std::move(options), [this](absl::StatusOr<Reply> r) {
      std::lock_guard<std::mutex> lock(mu_);
      results_.push_back(r.ok()
                             ? r->result.get<std::string>()
                             : absl::StrCat(absl::StatusCodeToString(r.status().code()), ": ", r.status().message()));
    });
  }
  std::vector<std::string> Results() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  // Which worker holds the pending call `command` (-1: none).
  int WorkerOf(const std::string& command) {
    for (int id = 0; id < fleet_->made(); ++id) {
      if (fleet_->exited(id)) continue;
      const auto pending = (*fleet_)[id]->pending_commands();
      if (std::find(pending.begin(), pending.end(), command) != pending.end()) return id;
    }
    return -1;
  }
  std::vector<std::string> Scalings() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const Event& e : events_) {
      if (e.type == EventType::kPoolScaling) {
        out.push_back(absl::StrCat(e.reason, " ", e.previous_size, "->", e.target_size));
      }
    }
    return out;
  }
  // Answers every call first: shutdown waits drain_timeout of fake time,
  // which does not pass by itself, for calls in flight.
  void TearDown() override {
    for (bool progressed = true; progressed;) {
      progressed = false;
      for (int id = 0; id < fleet_->made(); ++id) {
        if (!fleet_->exited(id) && (*fleet_)[id]->Reply()) progressed = true;
      }
    }
    pool_.reset();
  }

  FakeClock clock_;
  std::unique_ptr<FakeFleet> fleet_;
  std::unique_ptr<Pool> pool_;
  std::mutex mu_;
  std::vector<std::string> results_;
  std::vector<Event> events_;
};

TEST_F(ElasticPolicyTest, GrowsThroughTheStartPathAndQueuedCallsUseTheNewWorkers) {
  Make(1);
  Submit("a");
  Submit("b");  // queued
  ASSERT_TRUE(pool_->Resize(3, "manual", "").ok());
  ASSERT_TRUE(pool_->AwaitTargetSize(clock_.Now() + absl::Seconds(5)));
  EXPECT_EQ(pool_->Stats().workers, 3);
  EXPECT_EQ(pool_->Stats().target_workers, 3);
  EXPECT_EQ(pool_->Stats().current_workers, 3);
  ASSERT_TRUE(Eventually([&] { return WorkerOf("b") > 0; }));
  EXPECT_EQ(Scalings(), std::vector<std::string>{"manual 1->3"});
  EXPECT_EQ(pool_->Stats().scale_ups, 1u);
}

TEST_F(ElasticPolicyTest, ShrinkPicksIdleWorkersAndNeverFailsARunningCall) {
  Make(4);
  Submit("busy");
  const int busy = WorkerOf("busy");
  ASSERT_GE(busy, 0);
  ASSERT_TRUE(pool_->Resize(1, "manual", "").ok());
  // The three idle workers leave; the busy one stays.
  ASSERT_TRUE(pool_->AwaitTargetSize(clock_.Now() + absl::Seconds(5)));
  const PoolStats stats = pool_->Stats();
  ASSERT_EQ(stats.per_worker.size(), 1u);
  EXPECT_EQ(stats.per_worker[0].id, busy);
  ASSERT_TRUE((*fleet_)[busy]->Reply());
  EXPECT_EQ(Results(), std::vector<std::string>{"busy"});
  EXPECT_EQ(stats.recycles.at("scale_down"), 3u);
}

TEST_F(ElasticPolicyTest, ABusyLeaverDrainsItsCallFirst) {
  Make(2);
  Submit("x");
  Submit("y");
  const int x = WorkerOf("x");
  ASSERT_TRUE(pool_->Resize(1, "manual", "").ok());
  // Both are busy: one leaves, but only once its call is answered.
  EXPECT_FALSE(pool_->AwaitTargetSize(clock_.Now()));
  EXPECT_EQ(pool_->Stats().current_workers, 1);
  Submit("z");  // queued for the worker that stays, never the leaver
  int leaver = -1;
  for (const WorkerStats& w : pool_->Stats().per_worker) {
    if (w.state == WorkerState::kDraining) leaver = w.id;
  }
  ASSERT_GE(leaver, 0);
  ASSERT_TRUE((*fleet_)[leaver]->Reply());
  ASSERT_TRUE(pool_->AwaitTargetSize(clock_.Now() + absl::Seconds(5)));
  const int stayer = leaver == x ? 1 - x : x;
  ASSERT_TRUE((*fleet_)[stayer]->Reply());
  ASSERT_TRUE(Eventually([&] { return WorkerOf("z") == stayer; }));
  ASSERT_TRUE((*fleet_)[stayer]->Reply());
  EXPECT_EQ(Results().size(), 3u);
  for (const std::string& r : Results()) EXPECT_EQ(r.size(), 1u) << r;  // "x", "y", "z": no error
}

TEST_F(ElasticPolicyTest, ShrinkBelowTheReadyWorkersGivesUpStartingPlaces) {
  Make(1);
  fleet_->FailNextStarts(1, absl::UnavailableError("no luck"));
  ASSERT_TRUE(pool_->Resize(2, "manual", "").ok());
  // The start fails and waits its backoff; the pool shrinks back
  // meanwhile: the place not yet filled is given up, not the ready worker.
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().consecutive_start_failures == 1; }));
  ASSERT_TRUE(pool_->Resize(1, "manual", "").ok());
  clock_.Advance(absl::Seconds(1));  // the backoff ends: the retry starts, then leaves
  ASSERT_TRUE(Eventually([&] { return pool_->Stats().per_worker.size() == 1u; }));
  EXPECT_EQ(pool_->Stats().per_worker[0].id, 0);  // the ready worker stayed
  EXPECT_TRUE(pool_->AwaitTargetSize(clock_.Now() + absl::Seconds(5)));
}

TEST_F(ElasticPolicyTest, ResizeRefusesSizesOutOfRange) {
  Make(1);
  EXPECT_TRUE(absl::IsInvalidArgument(pool_->Resize(0, "manual", "")));
  EXPECT_TRUE(absl::IsInvalidArgument(pool_->Resize(1025, "manual", "")));
  EXPECT_TRUE(pool_->Resize(1, "manual", "").ok());  // no change, no event
  EXPECT_TRUE(Scalings().empty());
  pool_->Shutdown();
  EXPECT_TRUE(absl::IsFailedPrecondition(pool_->Resize(2, "manual", "")));
}

TEST_F(ElasticPolicyTest, HintFollowsTheKeyAndGoesElsewhereWhenItsWorkerIsBusy) {
  Make(2);
  Submit("s1", "session");
  const int home = WorkerOf("s1");
  ASSERT_TRUE((*fleet_)[home]->Reply());
  Submit("s2", "session");
  EXPECT_EQ(WorkerOf("s2"), home);
  Submit("s3", "session");  // home is busy: the other worker, which now has the key
  EXPECT_EQ(WorkerOf("s3"), 1 - home);
  EXPECT_EQ(pool_->Stats().per_worker[1 - home].affinity_keys, 1);
  EXPECT_EQ(pool_->Stats().per_worker[home].affinity_keys, 0);
}

TEST_F(ElasticPolicyTest, StrictWaitsForItsWorkerWhileOtherCallsPass) {
  Make(2);
  Submit("s1", "session");
  const int home = WorkerOf("s1");
  Submit("s2", "session", Affinity::kStrict);  // waits for `home`
  Submit("free");                              // passes it, to the other worker
  EXPECT_EQ(WorkerOf("s2"), -1);
  EXPECT_EQ(WorkerOf("free"), 1 - home);
  ASSERT_TRUE((*fleet_)[home]->Reply());
  EXPECT_EQ(WorkerOf("s2"), home);
}

TEST_F(ElasticPolicyTest, StrictFailFastFailsAtOnceWhenItsWorkerIsBusy) {
  Make(2);
  Submit("s1", "session");
  Submit("s2", "session", Affinity::kStrictFailFast);
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_EQ(Results()[0].rfind("RESOURCE_EXHAUSTED", 0), 0u) << Results()[0];
  EXPECT_NE(Results()[0].find("affinity key 'session'"), std::string::npos) << Results()[0];
}

TEST_F(ElasticPolicyTest, StrictCallReHomesWhenItsWorkerDies) {
  Make(2);
  Submit("s1", "session");
  const int home = WorkerOf("s1");
  Submit("other");  // the second worker is busy too
  Submit("s2", "session", Affinity::kStrict);
  (*fleet_)[home]->Crash(ExitInfo{.signal = 9});
  // s1 fails (its worker died); s2 re-homes to the survivor once free.
  ASSERT_TRUE(Eventually([&] { return Results().size() == 1u; }));
  EXPECT_EQ(Results()[0].rfind("UNAVAILABLE", 0), 0u) << Results()[0];
  ASSERT_TRUE((*fleet_)[1 - home]->Reply());
  ASSERT_TRUE(Eventually([&] { return WorkerOf("s2") >= 0; }));
  const int new_home = WorkerOf("s2");
  EXPECT_NE(new_home, home);
  ASSERT_TRUE((*fleet_)[new_home]->Reply());
  ASSERT_TRUE(Eventually([&] { return Results().size() == 3u; }));
  EXPECT_EQ(Results()[2], "s2");
}

TEST_F(ElasticPolicyTest, KeysReHomeWhenTheirWorkerIsScaledDownOrRecycled) {
  Make(2);
  Submit("a1", "a");
  Submit("b1", "b");
  const int a_home = WorkerOf("a1");
  ASSERT_TRUE((*fleet_)[a_home]->Reply());
  ASSERT_TRUE((*fleet_)[1 - a_home]->Reply());
  // Shrinking takes the newest of the idle workers with the fewest keys:
  // both have one, so worker 1 leaves, and its key with it.
  ASSERT_TRUE(pool_->Resize(1, "manual", "").ok());
  ASSERT_TRUE(pool_->AwaitTargetSize(clock_.Now() + absl::Seconds(5)));
  EXPECT_EQ(pool_->Stats().affinity_keys, 1);
  Submit("b2", "b", Affinity::kStrict);
  EXPECT_EQ(WorkerOf("b2"), 0);
  ASSERT_TRUE((*fleet_)[0]->Reply());
  EXPECT_EQ(pool_->Stats().per_worker[0].affinity_keys, 2);
  // A recycle: the successor takes the keys' next calls.
  ASSERT_TRUE(pool_->Recycle(0, "manual").ok());
  ASSERT_TRUE(
      Eventually([&] { return pool_->Stats().per_worker.size() == 1 && pool_->Stats().per_worker[0].id == 2; }));
  Submit("a2", "a", Affinity::kStrict);
  EXPECT_EQ(WorkerOf("a2"), 2);
}

TEST_F(ElasticPolicyTest, TheTableForgetsTheLeastRecentlyUsedKey) {
  Make(1);
  for (const char* key : {"k1", "k2", "k3"}) {
    Submit(key, key);
    ASSERT_TRUE((*fleet_)[0]->Reply());
  }
  Submit("k1", "k1");  // k1 used again: k2 is now the oldest
  ASSERT_TRUE((*fleet_)[0]->Reply());
  Submit("k4", "k4");
  ASSERT_TRUE((*fleet_)[0]->Reply());
  const PoolStats stats = pool_->Stats();
  EXPECT_EQ(stats.affinity_keys, 3);  // affinity_max_keys
  EXPECT_EQ(stats.affinity_evictions, 1u);
}

TEST(AffinityTableTest, BindsMovesForgetsAndCounts) {
  AffinityTable t(2);
  EXPECT_EQ(t.Lookup("a"), -1);
  t.Bind("a", 1);
  t.Bind("b", 1);
  EXPECT_EQ(t.KeysOf(1), 2);
  t.Bind("a", 2);  // moves
  EXPECT_EQ(t.KeysOf(1), 1);
  EXPECT_EQ(t.KeysOf(2), 1);
  EXPECT_EQ(t.Lookup("b"), 1);  // b most recent now
  t.Bind("c", 3);               // evicts a
  EXPECT_EQ(t.Lookup("a"), -1);
  EXPECT_EQ(t.evictions(), 1u);
  t.DropWorker(1);
  EXPECT_EQ(t.Lookup("b"), -1);
  EXPECT_EQ(t.size(), 1);
  t.Forget("c");
  EXPECT_EQ(t.size(), 0);
  EXPECT_EQ(t.KeysOf(3), 0);
}

}  // namespace
}  // namespace snakepit::internal
