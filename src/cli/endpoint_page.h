// Reading a page of a running application's metrics endpoint
// (`snakepit inspect --url`; docs/diagnostics.md, "The metrics endpoint").
#ifndef SNAKEPIT_SRC_CLI_ENDPOINT_PAGE_H_
#define SNAKEPIT_SRC_CLI_ENDPOINT_PAGE_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"

namespace snakepit::cli {

// GETs `page` ("/inspect", "/inspect.json" or "/metrics") from the endpoint
// at `url`: "http://host:port", with or without a trailing "/metrics"
// (what PoolManager::metrics_url() prints). INVALID_ARGUMENT for a URL
// that is not http://; UNAVAILABLE, naming the URL, when nothing answers
// within `timeout` or the answer is not 200 OK.
absl::StatusOr<std::string> FetchEndpointPage(const std::string& url, const std::string& page,
                                              std::chrono::milliseconds timeout);

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_ENDPOINT_PAGE_H_
