// A C++ implementation of snakepit.v1.Worker whose Execute returns the
// request's args and attachments unchanged: the same call as a Python
// worker's "echo" / "echo_attachments", without Python.
#ifndef SNAKEPIT_BENCH_ECHO_GRPC_ECHO_H_
#define SNAKEPIT_BENCH_ECHO_GRPC_ECHO_H_

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"

namespace snakepit::bench {

// Listens on `target` ("unix:/path") with message limits of
// `max_message_bytes`; nullptr if it cannot. Shut the server down before
// the service is destroyed (the service lives as long as the program).
std::unique_ptr<grpc::Server> StartGrpcEcho(const std::string& target, int max_message_bytes);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_ECHO_GRPC_ECHO_H_
