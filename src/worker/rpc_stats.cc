// RpcClient::StatsAsync: the worker's Stats RPC, as JSON for diagnostics.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "worker/rpc_client.h"

namespace snakepit::internal {

struct RpcClient::PendingStats {
  grpc::ClientContext context;
  snakepit::v1::StatsRequest request;
  snakepit::v1::StatsResponse response;
  std::function<void(absl::StatusOr<nlohmann::json>)> done;
};

namespace {

nlohmann::json ToJson(const snakepit::v1::StatsResponse& r) {
  nlohmann::json j = {{"pid", r.pid()},
                      {"mode", r.mode()},
                      {"max_concurrency", r.max_concurrency()},
                      {"in_flight", r.in_flight()},
                      {"requests_served", r.requests_served()},
                      {"requests_failed", r.requests_failed()},
                      {"threads", r.threads()},
                      {"uptime_s", r.uptime_s()},
                      {"python_version", r.python_version()},
                      {"free_threaded_build", r.free_threaded_build()},
                      {"gil_enabled", r.gil_enabled()},
                      {"adapter", r.adapter()}};
  // A worker that sends no report, or a broken one, gets an empty one: the
  // rest of its figures are still worth showing.
  nlohmann::json diagnostics = nlohmann::json::parse(r.diagnostics_json(), nullptr, /*allow_exceptions=*/false);
  j["diagnostics"] = diagnostics.is_object() ? std::move(diagnostics) : nlohmann::json::object();
  return j;
}

}  // namespace

void RpcClient::StatsAsync(absl::Time deadline, std::function<void(absl::StatusOr<nlohmann::json>)> done) {
  auto* query = new PendingStats;
  query->done = std::move(done);
  query->context.set_deadline(absl::ToChronoTime(deadline));
  std::string refused;
  if (!Track(query, &query->context, &refused)) {
    std::unique_ptr<PendingStats> owned(query);
    owned->done(absl::UnavailableError(absl::StrCat(label_, ": ", refused)));
    return;
  }
  stub_->async()->Stats(&query->context, &query->request, &query->response,
                        [this, query](grpc::Status status) { FinishStats(query, status); });
}

void RpcClient::FinishStats(PendingStats* query, const grpc::Status& rpc_status) {
  Untrack(query);
  absl::StatusOr<nlohmann::json> result =
      rpc_status.ok()
          ? absl::StatusOr<nlohmann::json>(ToJson(query->response))
          : absl::UnavailableError(absl::StrCat(label_, ": stats query failed: ", rpc_status.error_message()));
  {
    auto done = std::move(query->done);
    done(std::move(result));
  }
  delete query;
  Finished();
}

}  // namespace snakepit::internal
