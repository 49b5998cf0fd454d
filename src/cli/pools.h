// Starting the pools of a config file for the CLI, with a progress line.
#ifndef SNAKEPIT_SRC_CLI_POOLS_H_
#define SNAKEPIT_SRC_CLI_POOLS_H_

#include <memory>
#include <string>

#include "snakepit/pool_manager.h"

namespace snakepit::cli {

// Loads `config_path` and starts its pools.
struct StartOptions {
  // While workers start, a progress line goes to stderr: "starting pool
  // hpc: 3/16 workers ready" when one pool starts, "starting workers: 3/6
  // ready" for several. Rewritten in place on a terminal, one line per
  // change otherwise.
  bool progress = false;
  // Not empty: start just that pool (NOT_FOUND, listing the config's
  // pools, if it has none of that name).
  std::string only_pool = {};
  // Above 0: the pool_size of every pool started, instead of the config's.
  int workers = 0;
  // Sets every pool's drain_timeout to 0 and caps kill_grace at 0.5 s: a
  // CLI that has printed its answer does not wait for calls it gave up on.
  bool abandon_at_exit = false;
};

// On error prints it (naming the file) to stderr as "snakepit <command>:
// ..." and returns nullptr.
std::unique_ptr<PoolManager> StartPools(const std::string& command, const std::string& config_path,
                                        const StartOptions& options);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_POOLS_H_
