// Routes the log lines of the libraries snakepit runs on (protobuf, gRPC)
// through snakepit's logger (snakepit/logging.h), so that nothing the
// library does writes to stderr behind the application's back.
#ifndef SNAKEPIT_SRC_COMMON_FOREIGN_LOGS_H_
#define SNAKEPIT_SRC_COMMON_FOREIGN_LOGS_H_

namespace snakepit::internal {

// Installs protobuf's log handler and gRPC's log function, once per
// process (later calls do nothing). Thread-safe. Both are process-wide:
// an application that installs its own afterwards takes those lines back.
// gRPC's lines still honour GRPC_VERBOSITY (default: errors only).
void RouteForeignLogs();

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_FOREIGN_LOGS_H_
