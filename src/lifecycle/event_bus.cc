#include "lifecycle/event_bus.h"

#include <exception>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "common/callback_scope.h"
#include "snakepit/logging.h"

namespace snakepit::internal {

EventBus::EventBus() : thread_([this] { Run(); }) {}

EventBus::~EventBus() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

SubscriptionId EventBus::Subscribe(EventHandler handler) {
  MutexLock lock(&mu_);
  const SubscriptionId id = next_id_++;
  handlers_.emplace(id, std::move(handler));
  subscribers_.fetch_add(1, std::memory_order_relaxed);
  return id;
}

bool EventBus::Unsubscribe(SubscriptionId id) {
  if (thread_.get_id() == std::this_thread::get_id()) {
    logger()->error("snakepit: unsubscribe() called from an event handler; ignored");
    return false;
  }
  MutexLock lock(&mu_);
  if (handlers_.erase(id) == 0) return false;
  subscribers_.fetch_sub(1, std::memory_order_relaxed);
  // The handler may be running right now (it was copied out of the map);
  // wait until it returns so the caller may free what it captured.
  auto idle = [this, id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return delivering_to_ != id; };
  mu_.Await(Condition(&idle));
  return true;
}

void EventBus::Publish(Event event) {
  MutexLock lock(&mu_);
  if (queue_.size() >= kMaxQueued) {
    if (dropped_++ == 0 || dropped_ % 1000 == 0) {
      logger()->warn("snakepit: event queue full ({} events); dropped {} so far", kMaxQueued, dropped_);
    }
    return;
  }
  queue_.push_back(std::move(event));
}

std::uint64_t EventBus::dropped() const {
  MutexLock lock(&mu_);
  return dropped_;
}

void EventBus::Run() {
  absl::Time stop_deadline = absl::InfiniteFuture();
  MutexLock lock(&mu_);
  while (true) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
    mu_.Await(Condition(&ready));
    if (stopping_ && stop_deadline == absl::InfiniteFuture()) stop_deadline = absl::Now() + absl::Seconds(2);
    if (queue_.empty() || absl::Now() > stop_deadline) return;
    Event event = std::move(queue_.front());
    queue_.pop_front();
    // Snapshot the ids: handlers may subscribe or unsubscribe meanwhile.
    std::vector<SubscriptionId> ids;
    for (const auto& [id, handler] : handlers_) ids.push_back(id);
    for (SubscriptionId id : ids) {
      auto it = handlers_.find(id);
      if (it == handlers_.end()) continue;
      EventHandler handler = it->second;
      delivering_to_ = id;
      mu_.Unlock();
      // The handler is the application's code; an exception from it must
      // not end the event thread (and with it, the process).
      try {
        LibraryCallbackScope scope;
        handler(event);
      } catch (const std::exception& e) {
        logger()->error("snakepit: an event handler threw: {}", e.what());
      } catch (...) {
        logger()->error("snakepit: an event handler threw a non-std exception");
      }
      mu_.Lock();
      delivering_to_ = 0;
    }
  }
}

}  // namespace snakepit::internal
