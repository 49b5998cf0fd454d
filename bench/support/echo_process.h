// EchoProcess: snakepit_bench_echo started as a child, with its gRPC echo
// server and raw socket echo listening in a scratch directory.
#ifndef SNAKEPIT_BENCH_SUPPORT_ECHO_PROCESS_H_
#define SNAKEPIT_BENCH_SUPPORT_ECHO_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "support/subprocess.h"

namespace snakepit::bench {

class EchoProcess {
 public:
  // `program` is the snakepit_bench_echo executable; the sockets go in
  // `dir`. Returns once both servers listen.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<EchoProcess>> Start(const std::string& program,
                                                                          const std::string& dir);

  pid_t pid() const { return process_->pid(); }
  std::string grpc_target() const { return "unix:" + grpc_socket_; }
  const std::string& raw_socket() const { return raw_socket_; }

 private:
  EchoProcess() = default;
  std::unique_ptr<Subprocess> process_;
  std::string grpc_socket_;
  std::string raw_socket_;
};

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_ECHO_PROCESS_H_
