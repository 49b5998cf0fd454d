#include "worker/remote_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace snakepit::internal {
namespace {

// One lookup, shared by the caller and the thread that runs it: whoever
// leaves last frees it.
struct Lookup {
  absl::Notification done;
  absl::StatusOr<std::vector<std::string>> result = std::vector<std::string>{};
};

std::string AddressText(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
    return text;
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
  return absl::StrCat("[", text, "]");
}

absl::StatusOr<std::vector<std::string>> GetAddrInfo(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const int error = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve \"", host, "\": ", ::gai_strerror(error)));
  }
  std::vector<std::string> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET || a->ai_family == AF_INET6) {
      addresses.push_back(absl::StrCat(AddressText(a->ai_addr), ":", port));
    }
  }
  ::freeaddrinfo(found);
  return addresses;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveRemoteTarget(const RemoteTarget& target, absl::Time deadline) {
  std::vector<std::string> addresses = target.addresses;
  if (target.is_dns()) {
    auto lookup = std::make_shared<Lookup>();
    std::thread([lookup, host = target.host, port = target.port] {
      lookup->result = GetAddrInfo(host, port);
      lookup->done.Notify();
    }).detach();
    if (!lookup->done.WaitForNotificationWithDeadline(deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("resolving \"", target.host, "\" took too long"));
    }
    if (!lookup->result.ok()) return lookup->result.status();
    addresses = *std::move(lookup->result);
  }
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  return addresses;
}

}  // namespace snakepit::internal
