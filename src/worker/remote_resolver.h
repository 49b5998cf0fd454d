// Resolving a remote pool's target (config/remote_target.h) into the
// addresses of its workers, one gRPC target per worker.
//
// Why not gRPC's own resolver: gRPC 1.51's public C++ API hands resolved
// addresses to a load-balancing policy inside the channel and never to the
// application, while a remote pool needs each address as a worker of its
// own (its capacity, its health, its ejection). So the name is resolved
// here, with the system's resolver (getaddrinfo: /etc/hosts, then DNS, as
// gRPC's "native" resolver does), again every resolve_interval
// (docs/remote.md).
#ifndef SNAKEPIT_SRC_WORKER_REMOTE_RESOLVER_H_
#define SNAKEPIT_SRC_WORKER_REMOTE_RESOLVER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/remote_target.h"

namespace snakepit::internal {

// The target's addresses now, as gRPC targets ("10.0.0.5:50051",
// "[fd00::5]:50051"), sorted and without duplicates: a static list as it
// is, a DNS name through getaddrinfo (TCP, IPv4 and IPv6). getaddrinfo
// cannot be interrupted, so it runs on a thread of its own; past `deadline`
// this returns DEADLINE_EXCEEDED and leaves that thread to finish alone.
// UNAVAILABLE (naming the target and gai_strerror) when the name does not
// resolve. Thread-safe.
absl::StatusOr<std::vector<std::string>> ResolveRemoteTarget(const RemoteTarget& target, absl::Time deadline);

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_WORKER_REMOTE_RESOLVER_H_
