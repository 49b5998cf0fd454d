#include "support/direct_worker.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace snakepit::bench {

std::vector<std::string> WorkerEnvironment(const std::string& python_path, bool thread_mode, int slots) {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"}) {
    if (const char* value = std::getenv(name)) env.push_back(absl::StrCat(name, "=", value));
  }
  env.push_back("PYTHONUNBUFFERED=1");
  env.push_back("PYTHONPATH=" + python_path);
  const std::string threads = thread_mode ? std::to_string(slots) : "1";
  for (const char* name : {"OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                           "VECLIB_MAXIMUM_THREADS"}) {
    env.push_back(absl::StrCat(name, "=", threads));
  }
  if (!thread_mode) env.push_back("GRPC_POLL_STRATEGY=poll");
  return env;
}

absl::StatusOr<std::unique_ptr<DirectWorker>> DirectWorker::Start(const DirectWorkerOptions& options) {
  absl::StatusOr<std::pair<int, int>> lifeline = HighPipe();
  if (!lifeline.ok()) return lifeline.status();
  absl::StatusOr<std::pair<int, int>> ready = HighPipe();
  if (!ready.ok()) {
    ::close(lifeline->first);
    ::close(lifeline->second);
    return ready.status();
  }
  std::unique_ptr<DirectWorker> worker(new DirectWorker);
  worker->socket_ = options.socket;
  worker->lifeline_ = lifeline->second;
  SpawnOptions spawn;
  spawn.argv = {options.python,
                "-m",
                "snakepit_worker",
                "--mode",
                options.thread_mode ? "thread" : "process",
                "--max-workers",
                std::to_string(options.thread_mode ? options.slots : 1),
                "--listen",
                worker->target(),
                "--lifeline-fd",
                "3",
                "--ready-fd",
                "4",
                "--worker-id",
                "bench-direct",
                "--transport",
                options.transport};
  spawn.env = WorkerEnvironment(options.python_path, options.thread_mode, options.slots);
  spawn.fds = {{3, lifeline->first}, {4, ready->second}};
  spawn.quiet = true;
  const absl::Time started = absl::Now();
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(spawn);
  ::close(lifeline->first);
  ::close(ready->second);
  if (!process.ok()) {
    ::close(ready->first);
    return process.status();
  }
  worker->process_ = std::move(*process);
  absl::StatusOr<std::string> line = ReadLine(ready->first, started + options.startup_timeout);
  worker->startup_time_ = absl::Now() - started;
  ::close(ready->first);
  if (!line.ok()) return line.status();
  worker->ready_ = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (!worker->ready_.is_object() || !worker->ready_.value("ok", false)) {
    return absl::FailedPreconditionError(absl::StrCat("worker did not start: ", *line));
  }
  return worker;
}

DirectWorker::~DirectWorker() {
  if (lifeline_ >= 0) ::close(lifeline_);
  if (process_ != nullptr) (void)process_->Wait(absl::Seconds(3));  // else the Subprocess kills it
}

}  // namespace snakepit::bench
