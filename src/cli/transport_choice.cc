#include "cli/transport_choice.h"

#include "absl/strings/str_cat.h"
#include "snakepit/config.h"

namespace snakepit::cli {
namespace {

std::optional<std::string> TakeError(nlohmann::json& import_errors, const char* module) {
  if (!import_errors.is_object()) return std::nullopt;
  auto it = import_errors.find(module);
  if (it == import_errors.end()) return std::nullopt;
  std::string error = it->is_string() ? it->get<std::string>() : it->dump();
  import_errors.erase(it);
  return error;
}

nlohmann::json Side(const std::optional<std::string>& error) {
  return {{"imports", !error.has_value()}, {"error", error ? nlohmann::json(*error) : nlohmann::json(nullptr)}};
}

}  // namespace

nlohmann::json TransportChoice::ToJson() const {
  return {{"native", Side(native_error)},
          {"grpcio", Side(grpcio_error)},
          {"shm",
           {{"available", !shm_error.has_value()},
            {"error", shm_error ? nlohmann::json(*shm_error) : nlohmann::json(nullptr)}}},
          {"auto", chosen.empty() ? nlohmann::json(nullptr) : nlohmann::json(chosen)},
          {"reason", reason}};
}

std::optional<std::string> ProbeSharedMemory() {
  absl::Status available = SharedMemoryAvailable();
  if (available.ok()) return std::nullopt;
  return std::string(available.message());
}

TransportChoice ChooseTransport(nlohmann::json& import_errors, std::optional<std::string> shm_error) {
  TransportChoice c;
  c.native_error = TakeError(import_errors, kNativeTransportModule);
  c.grpcio_error = TakeError(import_errors, kGrpcioTransportModule);
  c.shm_error = std::move(shm_error);
  if (!c.native_error && !c.shm_error) {
    c.chosen = "shm";
    c.reason =
        "worker_transport \"auto\" takes the native transport, which imports here, with calls over shared memory";
    if (c.grpcio_error) {
      absl::StrAppend(&c.reason, " (worker_transport \"grpcio\" would fail: ", *c.grpcio_error, ")");
    }
  } else if (!c.native_error) {
    c.chosen = "native";
    c.reason = absl::StrCat("worker_transport \"auto\" takes the native transport, which imports here, over gRPC: ",
                            *c.shm_error);
    if (c.grpcio_error) {
      absl::StrAppend(&c.reason, " (worker_transport \"grpcio\" would fail: ", *c.grpcio_error, ")");
    }
  } else if (!c.grpcio_error) {
    c.chosen = "grpcio";
    c.reason = "worker_transport \"auto\" falls back to grpcio: the native transport does not import here";
  } else {
    c.reason = absl::StrCat("no worker can start on this interpreter: the native transport does not import (",
                            *c.native_error, ") and neither does grpcio (", *c.grpcio_error, ")");
  }
  return c;
}

}  // namespace snakepit::cli
