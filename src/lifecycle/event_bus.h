// EventBus: delivers lifecycle events to subscribers on one thread of its
// own, in the order they were published.
//
// Publishing never blocks on a subscriber: Publish() appends to a queue and
// returns; the bus thread calls the handlers outside any lock. A slow
// handler delays later events, never a pool. The queue is bounded: past
// kMaxQueued undelivered events, new ones are dropped and counted (logged
// once per burst), so a stuck handler cannot grow memory without bound.
//
// Threading: every method is thread-safe. Unsubscribe() returns once the
// handler is not running and will not run again, unless called from that
// handler itself (which would deadlock; it is refused with a log line).
#ifndef SNAKEPIT_SRC_LIFECYCLE_EVENT_BUS_H_
#define SNAKEPIT_SRC_LIFECYCLE_EVENT_BUS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "common/mutex.h"
#include "snakepit/events.h"

namespace snakepit::internal {

class EventBus {
 public:
  static constexpr std::size_t kMaxQueued = 10'000;

  EventBus();
  // Delivers what is queued (at most 2 s more), then stops.
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  SubscriptionId Subscribe(EventHandler handler);
  // False if `id` is not subscribed (or already unsubscribed).
  bool Unsubscribe(SubscriptionId id);
  void Publish(Event event);

  std::uint64_t dropped() const;
  // Whether any handler is subscribed (lock-free; for skipping the making
  // of events nobody would receive).
  bool has_subscribers() const { return subscribers_.load(std::memory_order_relaxed) > 0; }

 private:
  void Run();

  mutable Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
  std::map<SubscriptionId, EventHandler> handlers_ ABSL_GUARDED_BY(mu_);
  SubscriptionId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  SubscriptionId delivering_to_ ABSL_GUARDED_BY(mu_) = 0;  // 0: none
  std::uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> subscribers_{0};
  std::thread thread_;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_LIFECYCLE_EVENT_BUS_H_
