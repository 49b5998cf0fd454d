// Which worker transport a pool would use on an interpreter, for `snakepit
// doctor`. The worker decides (python/snakepit_worker/transport.py, load()):
// with worker_transport "auto" (the default) it takes the native transport
// when its module imports, with the shared-memory data plane ("shm") when
// the host can make the region, else grpcio when that imports, else the
// start fails. The doctor's probe imports both modules, as a worker would, and
// this reads the outcome.
#ifndef SNAKEPIT_SRC_CLI_TRANSPORT_CHOICE_H_
#define SNAKEPIT_SRC_CLI_TRANSPORT_CHOICE_H_

#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace snakepit::cli {

// The modules a worker imports for each transport; the probe imports them
// with --import.
inline constexpr const char* kNativeTransportModule = "snakepit_worker.native_server";
inline constexpr const char* kGrpcioTransportModule = "snakepit_worker.server";

struct TransportChoice {
  std::optional<std::string> native_error;  // why the native transport does not import; nullopt: it does
  std::optional<std::string> grpcio_error;  // the same for grpcio
  std::optional<std::string> shm_error;     // why this host cannot make shared memory; nullopt: it can
  std::string chosen;                       // for "auto": "shm", "native", "grpcio", or "" when none runs
  std::string reason;                       // a sentence saying why

  // {"native": {"imports", "error"}, "grpcio": {...}, "shm": {"available", "error"},
  //  "auto": name or null, "reason"}
  nlohmann::json ToJson() const;
};

// Reads the probe's "import_errors" (module -> message) for the two
// modules above and removes them from it, so that what stays is what the
// user asked the probe to import.
// `shm_error`: ProbeSharedMemory()'s answer.
TransportChoice ChooseTransport(nlohmann::json& import_errors, std::optional<std::string> shm_error);

// Whether this process can make a shared-memory region as a pool would
// (SharedMemoryAvailable): nullopt if so, else why not.
std::optional<std::string> ProbeSharedMemory();

}  // namespace snakepit::cli

#endif  // SNAKEPIT_SRC_CLI_TRANSPORT_CHOICE_H_
