// The raw floor: a Unix stream socket server that sends every frame
// (8-byte little-endian length, then the bytes; see RawEchoClient) back
// as it came, one thread per connection.
#ifndef SNAKEPIT_BENCH_ECHO_RAW_ECHO_H_
#define SNAKEPIT_BENCH_ECHO_RAW_ECHO_H_

#include <string>

#include "absl/status/status.h"

namespace snakepit::bench {

// Binds `path` and serves it on detached threads for the rest of the
// program's life.
[[nodiscard]] absl::Status StartRawEcho(const std::string& path);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_ECHO_RAW_ECHO_H_
