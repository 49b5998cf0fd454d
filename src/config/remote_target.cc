#include "config/remote_target.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

absl::Status Bad(std::string_view target, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", std::string(target), "\": ", std::string(why)));
}

bool ValidPort(std::string_view port) {
  int value = 0;
  return !port.empty() &&
         std::all_of(port.begin(), port.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) &&
         absl::SimpleAtoi(absl::string_view(port.data(), port.size()), &value) && value > 0 && value < 65536;
}

// "host:port" or "[v6]:port" -> {host, port}; false if malformed.
bool SplitHostPort(std::string_view text, std::string* host, std::string* port) {
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    *host = std::string(text.substr(1, close - 1));
    *port = std::string(text.substr(close + 2));
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return false;
    *host = std::string(text.substr(0, colon));
    *port = std::string(text.substr(colon + 1));
  }
  return !host->empty() && ValidPort(*port);
}

}  // namespace

absl::StatusOr<RemoteTarget> ParseRemoteTarget(std::string_view target) {
  if (target.empty()) return Bad(target, "must not be empty");
  RemoteTarget parsed;
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (!target.starts_with(scheme)) continue;
    std::string_view list = target.substr(scheme.size());
    while (true) {
      const size_t comma = list.find(',');
      const std::string_view entry = list.substr(0, comma);
      std::string host, port;
      if (!SplitHostPort(entry, &host, &port)) {
        return Bad(target, absl::StrCat("list entry \"", std::string(entry), "\" is not ",
                                        scheme == "ipv4:" ? "ADDRESS:PORT" : "[ADDRESS]:PORT"));
      }
      parsed.addresses.push_back(std::string(entry));
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return parsed;
  }
  std::string_view rest = target;
  if (rest.starts_with("dns:///")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("dns://")) {
    return Bad(target,
               "a DNS authority (dns://SERVER/...) is not supported: names are resolved by the system's "
               "resolver; write dns:///NAME:PORT");
  } else if (rest.starts_with("dns:")) {
    rest.remove_prefix(4);
  }
  if (rest.starts_with("unix:") || rest.starts_with("unix-abstract:")) {
    return Bad(target, "a remote pool reaches its workers over TCP; a Unix socket is a local pool's");
  }
  if (!SplitHostPort(rest, &parsed.host, &parsed.port)) {
    return Bad(target,
               "expected dns:///NAME:PORT, NAME:PORT, ipv4:ADDR:PORT,... or ipv6:[ADDR]:PORT,... "
               "(the port is required)");
  }
  return parsed;
}

}  // namespace snakepit::internal
