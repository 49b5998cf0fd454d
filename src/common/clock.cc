#include "common/clock.h"

#include "absl/time/clock.h"

namespace snakepit::internal {

absl::Time RealClock::Now() const { return absl::Now(); }

}  // namespace snakepit::internal
