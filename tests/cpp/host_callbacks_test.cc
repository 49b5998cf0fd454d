// The host application's callbacks, with real workers: a completion
// callback or an event handler that shuts the pools down, destroys the
// PoolManager, or throws. Each of these once hung the host for ever
// (docs/reliability.md, "Host application").
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<PoolManager> StartOne(EventHandler on_event = nullptr) {
  return testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}), std::move(on_event));
}

// Runs `step` on a thread of its own and fails (rather than hangs) if it
// does not finish within `limit`: a deadlock here would otherwise only end
// at ctest's timeout, and the thread stuck in it could not be joined.
void FinishesWithin(const char* what, seconds limit, std::function<void()> step) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([done, step = std::move(step)] {
    step();
    done->set_value();
  }).detach();
  if (finished.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not return within " << limit.count() << " s (deadlock)";
    std::_Exit(1);  // the stuck thread cannot be joined
  }
}

TEST(HostCallbacks, ShutdownInsideACompletionCallbackDoesNotDeadlock) {
  std::unique_ptr<PoolManager> pools = StartOne();
  ASSERT_NE(pools, nullptr);
  const std::vector<int> pids = testing::WorkerPids(*pools, "p");
  auto returned = std::make_shared<std::promise<void>>();
  pools->execute_async("p", "ping", nlohmann::json::object(), {}, [&pools, returned](absl::StatusOr<Reply> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    pools->shutdown();  // returns at once: the shutdown continues elsewhere
    returned->set_value();
  });
  ASSERT_EQ(returned->get_future().wait_for(seconds(10)), std::future_status::ready) << "shutdown() blocked";
  // Calls are refused from now on, and the workers go away.
  ASSERT_TRUE(testing::WaitFor([&] { return !pools->execute("p", "ping").ok(); }, milliseconds(10'000)));
  for (int pid : pids) EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(pid); }, milliseconds(10'000)));
  FinishesWithin("shutdown() after a shutdown begun in a callback", seconds(30), [&] { pools->shutdown(); });
  FinishesWithin("~PoolManager", seconds(30), [&] { pools.reset(); });
}

TEST(HostCallbacks, DestroyingThePoolManagerInsideACompletionCallbackDoesNotDeadlock) {
  auto holder = std::make_shared<std::unique_ptr<PoolManager>>(StartOne());
  ASSERT_NE(*holder, nullptr);
  const std::vector<int> pids = testing::WorkerPids(**holder, "p");
  auto returned = std::make_shared<std::promise<void>>();
  (*holder)->execute_async("p", "ping", nlohmann::json::object(), {}, [holder, returned](absl::StatusOr<Reply>) {
    holder->reset();  // the last owner, on the library's own thread
    returned->set_value();
  });
  ASSERT_EQ(returned->get_future().wait_for(seconds(10)), std::future_status::ready) << "~PoolManager blocked";
  for (int pid : pids) EXPECT_TRUE(testing::WaitFor([&] { return !testing::ProcessAlive(pid); }, milliseconds(10'000)));
}

TEST(HostCallbacks, ShutdownInsideAnEventHandlerDoesNotDeadlock) {
  PoolManager* raw = nullptr;
  auto returned = std::make_shared<std::promise<void>>();
  auto once = std::make_shared<std::once_flag>();
  std::unique_ptr<PoolManager> pools = StartOne([&raw, returned, once](const Event& e) {
    if (e.type != EventType::kRequestExecuted || raw == nullptr) return;
    std::call_once(*once, [&] {
      raw->shutdown();
      returned->set_value();
    });
  });
  ASSERT_NE(pools, nullptr);
  raw = pools.get();
  ASSERT_TRUE(pools->execute("p", "ping").ok());
  ASSERT_EQ(returned->get_future().wait_for(seconds(10)), std::future_status::ready) << "shutdown() blocked";
  FinishesWithin("~PoolManager", seconds(30), [&] { pools.reset(); });
}

TEST(HostCallbacks, ACallbackThatThrowsChangesNothingElse) {
  std::unique_ptr<PoolManager> pools = StartOne();
  ASSERT_NE(pools, nullptr);
  auto called = std::make_shared<std::promise<void>>();
  pools->execute_async("p", "ping", nlohmann::json::object(), {}, [called](absl::StatusOr<Reply>) {
    called->set_value();
    throw std::runtime_error("the application's bug");
  });
  ASSERT_EQ(called->get_future().wait_for(seconds(10)), std::future_status::ready);
  // The pool's books are straight: the slot is free, later calls run.
  ASSERT_TRUE(testing::WaitFor([&] { return pools->stats("p")->in_flight == 0; }, milliseconds(5'000)));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pools->execute("p", "ping").ok());
  EXPECT_EQ(pools->stats("p")->requests, 4u);
  FinishesWithin("shutdown() after a throwing callback", seconds(30), [&] { pools->shutdown(); });
}

}  // namespace
}  // namespace snakepit
