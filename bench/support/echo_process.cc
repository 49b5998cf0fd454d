#include "support/echo_process.h"

#include <unistd.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace snakepit::bench {

absl::StatusOr<std::unique_ptr<EchoProcess>> EchoProcess::Start(const std::string& program, const std::string& dir) {
  std::unique_ptr<EchoProcess> echo(new EchoProcess);
  echo->grpc_socket_ = dir + "/echo-grpc.sock";
  echo->raw_socket_ = dir + "/echo-raw.sock";
  absl::StatusOr<std::pair<int, int>> ready = HighPipe();
  if (!ready.ok()) return ready.status();
  SpawnOptions spawn;
  spawn.argv = {program, "--grpc", echo->grpc_target(), "--raw", echo->raw_socket_, "--ready-fd", "3"};
  spawn.fds = {{3, ready->second}};
  absl::StatusOr<std::unique_ptr<Subprocess>> process = Subprocess::Spawn(spawn);
  ::close(ready->second);
  if (!process.ok()) {
    ::close(ready->first);
    return process.status();
  }
  echo->process_ = std::move(*process);
  absl::StatusOr<std::string> line = ReadLine(ready->first, absl::Now() + absl::Seconds(10));
  ::close(ready->first);
  if (!line.ok()) return line.status();
  if (*line != "ready") return absl::FailedPreconditionError("snakepit_bench_echo did not start: " + *line);
  return echo;
}

}  // namespace snakepit::bench
