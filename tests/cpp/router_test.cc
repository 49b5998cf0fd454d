// Routing logic without processes: an in-memory WorkerProfile whose calls
// the test completes by hand, so ordering and capacity decisions can be
// checked exactly. (The end-to-end tests run the same router with real
// Python workers.)
#include <deque>
#include <mutex>

#include "absl/time/clock.h"
#include "common/mutex.h"
#include "gtest/gtest.h"
#include "process/child_process.h"
#include "router/pool.h"

namespace snakepit::internal {
namespace {

class ManualWorker : public WorkerProfile {
 public:
  ManualWorker(int id, int capacity, ExitCallback on_exit) : id_(id), capacity_(capacity), on_exit_(on_exit) {}
  absl::Status Start(absl::Time) override { return absl::OkStatus(); }
  void Stop(absl::Duration) override { FailAll(); }
  void Execute(WorkerCall call, Done done) override {
    MutexLock lock(&mu_);
    pending_.push_back({std::move(call), std::move(done)});
  }
  void Kill() override { FailAll(); }
  void CheckHealth(absl::Time, std::function<void(absl::Status)> done) override { done(absl::OkStatus()); }
  void Diagnostics(absl::Time, std::function<void(absl::StatusOr<nlohmann::json>)> done) override {
    done(nlohmann::json::object());
  }
  int capacity() const override { return capacity_; }
  int load() const override {
    MutexLock lock(&mu_);
    return static_cast<int>(pending_.size());
  }
  Health health() const override { return Health::kHealthy; }
  WorkerMetadata metadata() const override {
    WorkerMetadata m;
    m.id = id_;
    m.label = "manual-" + std::to_string(id_);
    return m;
  }
  // Answers the oldest pending call with its own command name.
  bool CompleteOne() {
    std::pair<WorkerCall, Done> p;
    {
      MutexLock lock(&mu_);
      if (pending_.empty()) return false;
      p = std::move(pending_.front());
      pending_.pop_front();
    }
    p.second(Reply{nlohmann::json(p.first.command), {}});
    return true;
  }
  void FailAll() {
    while (true) {
      std::pair<WorkerCall, Done> p;
      {
        MutexLock lock(&mu_);
        if (pending_.empty()) return;
        p = std::move(pending_.front());
        pending_.pop_front();
      }
      p.second(absl::UnavailableError("stopped"));
    }
  }

 private:
  const int id_;
  const int capacity_;
  ExitCallback on_exit_;
  mutable Mutex mu_;
  std::deque<std::pair<WorkerCall, Done>> pending_;
};

class RouterTest : public ::testing::Test {
 protected:
  void Make(int workers, int capacity, int max_queue) {
    PoolConfig config;
    config.name = "r";
    config.pool_size = workers;
    config.max_queue = max_queue;
    config.drain_timeout = std::chrono::milliseconds(0);
    pool_ = std::make_unique<Pool>(config, [this, capacity](Profile, int id, WorkerProfile::ExitCallback on_exit) {
      auto w = std::make_unique<ManualWorker>(id, capacity, on_exit);
      workers_.push_back(w.get());
      return w;
    });
    ASSERT_TRUE(pool_->Start().ok());
  }
  void Submit(const std::string& command) {
    pool_->Submit(command, "{}", {}, [this](absl::StatusOr<Reply> r) {
      std::lock_guard<std::mutex> lock(results_mu_);
      results_.push_back(r.ok() ? r->result.get<std::string>() : std::string(r.status().message()));
    });
  }
  // The pool first: its shutdown fails pending calls into results_.
  void TearDown() override { pool_.reset(); }
  std::vector<std::string> Results() {
    std::lock_guard<std::mutex> lock(results_mu_);
    return results_;
  }

  std::vector<ManualWorker*> workers_;
  std::unique_ptr<Pool> pool_;
  std::mutex results_mu_;
  std::vector<std::string> results_;
};

TEST_F(RouterTest, SpreadsCallsToTheWorkerWithTheMostFreeCapacity) {
  Make(/*workers=*/2, /*capacity=*/3, /*max_queue=*/10);
  for (int i = 0; i < 4; ++i) Submit("c" + std::to_string(i));
  // 4 calls over 2 x 3 slots: 2 and 2, never 3 and 1.
  EXPECT_EQ(workers_[0]->load(), 2);
  EXPECT_EQ(workers_[1]->load(), 2);
}

TEST_F(RouterTest, QueueIsFifoAndBounded) {
  Make(/*workers=*/1, /*capacity=*/1, /*max_queue=*/2);
  Submit("a");
  Submit("b");
  Submit("c");
  Submit("d");  // queue full
  EXPECT_EQ(pool_->Stats().queued, 2);
  ASSERT_EQ(Results().size(), 1u);
  EXPECT_NE(Results()[0].find("max_queue=2"), std::string::npos);
  while (workers_[0]->CompleteOne()) {
  }
  EXPECT_EQ(Results(), (std::vector<std::string>{Results()[0], "a", "b", "c"}));
  EXPECT_EQ(pool_->Stats().in_flight, 0);
  EXPECT_EQ(pool_->Stats().rejected, 1u);
}

TEST_F(RouterTest, NeverExceedsCapacity) {
  Make(/*workers=*/3, /*capacity=*/2, /*max_queue=*/100);
  for (int i = 0; i < 50; ++i) Submit("x");
  for (ManualWorker* w : workers_) EXPECT_LE(w->load(), 2);
  EXPECT_EQ(pool_->Stats().in_flight, 6);
  EXPECT_EQ(pool_->Stats().queued, 44);
  int done = 0;
  while (done < 50) {
    bool progressed = false;
    for (ManualWorker* w : workers_) {
      if (w->CompleteOne()) {
        ++done;
        progressed = true;
      }
      EXPECT_LE(w->load(), 2);
    }
    ASSERT_TRUE(progressed);
  }
  EXPECT_EQ(Results().size(), 50u);
}

TEST_F(RouterTest, ShutdownFailsQueuedCallsWithUnavailable) {
  Make(/*workers=*/1, /*capacity=*/1, /*max_queue=*/5);
  Submit("running");
  Submit("queued");
  pool_->Shutdown();
  std::vector<std::string> results = Results();
  ASSERT_EQ(results.size(), 2u);
  for (const std::string& r : results) EXPECT_TRUE(r.find("shut") != std::string::npos || r == "stopped") << r;
}

}  // namespace
}  // namespace snakepit::internal
