// A remote pool's target (RemoteConfig::target) taken apart: a DNS name to
// resolve again and again, or a static list of addresses. Pure parsing; the
// resolution is the worker layer's (worker/remote_resolver.h).
#ifndef SNAKEPIT_SRC_CONFIG_REMOTE_TARGET_H_
#define SNAKEPIT_SRC_CONFIG_REMOTE_TARGET_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace snakepit::internal {

struct RemoteTarget {
  // Set for "dns:///name:port", "dns:name:port" and "name:port": the name
  // (or IP literal) to resolve and the port of every address it yields.
  std::string host;
  std::string port;
  // Set for "ipv4:a:p,b:p" and "ipv6:[a]:p,[b]:p": gRPC targets of single
  // addresses ("10.0.0.5:50051", "[fd00::5]:50051"), in order.
  std::vector<std::string> addresses;

  bool is_dns() const { return !host.empty(); }
};

// INVALID_ARGUMENT (the message says what is wrong with `target`, without a
// key path: the caller adds it) on an empty target, an unknown scheme, a
// DNS authority ("dns://8.8.8.8/name:port": resolution uses the system's
// resolver), a missing or non-numeric port, or an empty list entry.
absl::StatusOr<RemoteTarget> ParseRemoteTarget(std::string_view target);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_CONFIG_REMOTE_TARGET_H_
