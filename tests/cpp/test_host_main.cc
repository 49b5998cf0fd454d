// snakepit_test_host: starts the pools of the JSON config in argv[1],
// prints {"pids": [...], "templates": [...], "addresses": [...]} (workers,
// the templates forked workers came from, the workers' addresses) on one
// stdout line, then idles until killed (at
// most 60 s). Used by lifeline_test, which SIGKILLs it.
#include <unistd.h>

#include <cstdio>

#include "snakepit/snakepit.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: snakepit_test_host CONFIG_JSON\n");
    return 2;
  }
  absl::StatusOr<snakepit::Config> config = snakepit::Config::FromJsonString(argv[1]);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 2;
  }
  auto pools = snakepit::PoolManager::Start(*config);
  if (!pools.ok()) {
    std::fprintf(stderr, "%s\n", pools.status().ToString().c_str());
    return 1;
  }
  nlohmann::json pids = nlohmann::json::array();
  nlohmann::json templates = nlohmann::json::array();  // of forked workers
  nlohmann::json addresses = nlohmann::json::array();
  for (const std::string& name : (*pools)->list_pools()) {
    const snakepit::PoolStats stats = *(*pools)->stats(name);
    for (const snakepit::WorkerStats& w : stats.per_worker) {
      pids.push_back(w.pid);
      addresses.push_back(w.address);
      if (w.template_pid != 0) templates.push_back(w.template_pid);
    }
  }
  std::printf("%s\n",
              nlohmann::json{{"pids", pids}, {"templates", templates}, {"addresses", addresses}}.dump().c_str());
  std::fflush(stdout);
  ::sleep(60);
  return 0;
}
