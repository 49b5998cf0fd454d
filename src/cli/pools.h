// Starting the pools of a config file for the CLI, with a progress line.
#ifndef SNAKEPIT_SRC_CLI_POOLS_H_
#define SNAKEPIT_SRC_CLI_POOLS_H_

#include <memory>
#include <string>

#include "snakepit/pool_manager.h"

namespace snakepit::cli {

// Loads `config_path` and starts its pools. While workers start, a progress
// line ("starting workers: 3/6 ready") goes to stderr when `progress` is
// set: rewritten in place on a terminal, one line per change otherwise.
// `only_pool`, when not empty, starts just that pool (NOT_FOUND, listing
// the config's pools, if it has none of that name). `abandon_at_exit` sets
// every pool's drain_timeout to 0 and caps kill_grace at 0.5 s: a CLI that
// has printed its answer does not wait for calls it gave up on. On error prints it (naming the file)
// to stderr and returns nullptr.
struct StartOptions {
  bool progress = false;
  std::string only_pool = {};
  bool abandon_at_exit = false;
};
std::unique_ptr<PoolManager> StartPools(const std::string& command, const std::string& config_path,
                                        const StartOptions& options);

// Library log lines below warnings are noise in a CLI, unless --verbose.
void QuietLogs(bool verbose);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_POOLS_H_
