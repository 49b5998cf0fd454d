// RawEchoClient: the transport floor. A message goes over a plain Unix
// stream socket to the echo process (snakepit_bench_echo --raw) and back:
// an 8-byte little-endian length, then the bytes. No framing library, no
// serialisation, one read/write pair per direction where the size allows.
#ifndef SNAKEPIT_BENCH_SUPPORT_RAW_ECHO_CLIENT_H_
#define SNAKEPIT_BENCH_SUPPORT_RAW_ECHO_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace snakepit::bench {

class RawEchoClient {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RawEchoClient>> Connect(const std::string& path);
  ~RawEchoClient();
  RawEchoClient(const RawEchoClient&) = delete;
  RawEchoClient& operator=(const RawEchoClient&) = delete;

  // Sends `message` and reads the echo into `reply`.
  [[nodiscard]] absl::Status RoundTrip(const std::string& message, std::string* reply);

 private:
  explicit RawEchoClient(int fd) : fd_(fd) {}
  int fd_;
};

// Frame I/O shared with the echo server: the whole of `size` bytes or an error.
[[nodiscard]] absl::Status WriteAll(int fd, const char* data, std::size_t size);
[[nodiscard]] absl::Status ReadAll(int fd, char* data, std::size_t size);

}  // namespace snakepit::bench

#endif  // SNAKEPIT_BENCH_SUPPORT_RAW_ECHO_CLIENT_H_
