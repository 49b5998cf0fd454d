#include "cli/endpoint_page.h"

#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace snakepit::cli {

absl::StatusOr<std::string> FetchEndpointPage(const std::string& url, const std::string& page,
                                              std::chrono::milliseconds timeout) {
  std::string base = url;
  if (!absl::StartsWith(base, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--url: expected http://HOST:PORT (the endpoint is plain HTTP), got \"", url, "\""));
  }
  while (absl::EndsWith(base, "/")) base.pop_back();
  if (absl::EndsWith(base, "/metrics")) base.resize(base.size() - std::string_view("/metrics").size());
  httplib::Client client(base);
  if (!client.is_valid()) return absl::InvalidArgumentError(absl::StrCat("--url: cannot use \"", url, "\""));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  httplib::Result result = client.Get(page);
  if (!result) {
    return absl::UnavailableError(absl::StrCat(base, page, ": no answer (", httplib::to_string(result.error()),
                                               "); is the application running, "
                                               "with \"metrics\": {\"listen\": ...} in its config?"));
  }
  if (result->status != 200) {
    return absl::UnavailableError(absl::StrCat(base, page, ": HTTP ", result->status, " ", result->body));
  }
  return result->body;
}

}  // namespace snakepit::cli
