// ForeignCpu: how much CPU the rest of the machine used while a scenario
// ran: every core's busy time (/proc/stat) minus this process tree's (this
// process, its reaped children, its live children). On a shared machine it
// says how far a scenario's figures were disturbed; the hypervisor's steal
// time is reported beside it.
#ifndef SNAKEPIT_BENCH_SUPPORT_FOREIGN_CPU_H_
#define SNAKEPIT_BENCH_SUPPORT_FOREIGN_CPU_H_

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace snakepit::bench {

class ForeignCpu {
 public:
  ForeignCpu();  // starts measuring
  // {"foreign_cores", "steal_cores", "own_cores"}: averages since construction.
  nlohmann::json Report() const;

 private:
  struct Sample {
    absl::Time when;
    double busy_s = 0;   // all cores, all processes
    double steal_s = 0;  // taken by the hypervisor
    double own_s = 0;    // this process tree
  };
  static Sample Take();
  Sample start_;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_FOREIGN_CPU_H_
