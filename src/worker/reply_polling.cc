#include "worker/reply_polling.h"

#include "common/usable_cpus.h"

namespace snakepit::internal {

ReplyPolling::Load& ReplyPolling::ProcessLoad() {
  static Load* const load = new Load();  // never destroyed: clients may outlive statics
  return *load;
}

int ReplyPolling::ProcessCpus() {
  static const int cpus = UsableCpus();
  return cpus;
}

ReplyPolling::ReplyPolling(absl::Duration budget, int cpus, Load& load) : budget_(budget), cpus_(cpus), load_(load) {}

ReplyPolling::~ReplyPolling() { load_.in_flight.fetch_sub(in_flight_.load(), std::memory_order_relaxed); }

void ReplyPolling::Sent(int calls) {
  in_flight_.fetch_add(calls, std::memory_order_relaxed);
  load_.in_flight.fetch_add(calls, std::memory_order_relaxed);
}

void ReplyPolling::Answered(int calls) {
  in_flight_.fetch_sub(calls, std::memory_order_relaxed);
  load_.in_flight.fetch_sub(calls, std::memory_order_relaxed);
}

absl::Duration ReplyPolling::BeginPoll() {
  if (budget_ <= absl::ZeroDuration()) return absl::ZeroDuration();
  if (last_wait_ns_.load(std::memory_order_relaxed) > absl::ToInt64Nanoseconds(budget_)) {
    return absl::ZeroDuration();
  }
  // Counted first, then checked: of two callers that begin at once, at
  // least one sees the other.
  const int polling = load_.polling.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (load_.in_flight.load(std::memory_order_relaxed) + polling > cpus_) {
    load_.polling.fetch_sub(1, std::memory_order_relaxed);
    return absl::ZeroDuration();
  }
  return budget_;
}

bool ReplyPolling::StillFits() const {
  return load_.in_flight.load(std::memory_order_relaxed) + load_.polling.load(std::memory_order_relaxed) <= cpus_;
}

void ReplyPolling::EndPoll(absl::Duration polled, absl::Duration waited) {
  if (polled > absl::ZeroDuration()) load_.polling.fetch_sub(1, std::memory_order_relaxed);
  last_wait_ns_.store(absl::ToInt64Nanoseconds(waited), std::memory_order_relaxed);
}

}  // namespace snakepit::internal
