#include "micro/targets.h"

#include "absl/strings/str_cat.h"
#include "support/status_macros.h"

namespace snakepit::bench {
namespace {

constexpr char kPools[] = R"({"pools": [
  {"name": "process", "profile": "process", "pool_size": 1},
  {"name": "thread", "profile": "thread", "pool_size": 1, "threads_per_worker": 4}]})";

absl::StatusOr<pid_t> WorkerPid(const PoolManager& pools, const char* pool) {
  absl::StatusOr<PoolStats> stats = pools.stats(pool);
  if (!stats.ok()) return stats.status();
  if (stats->per_worker.size() != 1) return absl::InternalError(absl::StrCat("pool ", pool, ": not one worker"));
  return stats->per_worker.front().pid;
}

}  // namespace

absl::Status StartTargets(Targets& t) {
  BENCH_ASSIGN_OR_RETURN(Config config, Config::FromJsonString(kPools));
  for (PoolConfig& pool : config.pools) pool.python = t.flags.python;
  BENCH_ASSIGN_OR_RETURN(t.pools, PoolManager::Start(config));
  BENCH_ASSIGN_OR_RETURN(t.process_pool_pid, WorkerPid(*t.pools, "process"));
  BENCH_ASSIGN_OR_RETURN(t.thread_pool_pid, WorkerPid(*t.pools, "thread"));

  BENCH_ASSIGN_OR_RETURN(t.python, DirectWorker::Start({.python = t.flags.python,
                                                        .python_path = t.flags.python_path,
                                                        .socket = t.scratch.File("direct.sock")}));
  t.python_stub = std::make_unique<BareStub>(t.python->target());
  if (!t.python_stub->WaitConnected(absl::Seconds(10))) return absl::UnavailableError("direct worker: no connection");

  BENCH_ASSIGN_OR_RETURN(t.echo, EchoProcess::Start(t.flags.echo_server, t.scratch.path()));
  t.echo_stub = std::make_unique<BareStub>(t.echo->grpc_target());
  if (!t.echo_stub->WaitConnected(absl::Seconds(10))) return absl::UnavailableError("echo server: no connection");
  BENCH_ASSIGN_OR_RETURN(t.raw, RawEchoClient::Connect(t.echo->raw_socket()));
  return absl::OkStatus();
}

}  // namespace snakepit::bench
