// Config's entry points: profile helpers and loading from JSON text, files
// and documents. The conversion lives in config_json.cc, the rules in
// config_rules.cc and config_validate.cc.
#include "snakepit/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "config/config_json.h"
#include "config/config_rules.h"
#include "config/config_validate.h"
#include "config/json_text.h"

namespace snakepit {
namespace {

constexpr int kDefaultProcessPoolSize = 4;
constexpr int kDefaultThreadPoolSize = 2;
constexpr int kDefaultThreadsPerWorker = 4;

std::string ErrnoText(int error) { return std::generic_category().message(error); }

std::string TooLargeMessage(std::size_t size) {
  return absl::StrCat("config is ", size, " bytes; the limit is ", internal::kMaxConfigBytes >> 20, " MiB");
}

// Reads the whole of `path`, refusing more than kMaxConfigBytes: by size
// for a regular file, by reading one byte too many for anything else (a
// pipe, a growing file). Messages do not name the path; the caller adds it.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  internal::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return absl::NotFoundError(absl::StrCat("cannot open: ", ErrnoText(errno)));
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::uint64_t>(info.st_size) > internal::kMaxConfigBytes) {
    return absl::InvalidArgumentError(TooLargeMessage(static_cast<std::size_t>(info.st_size)));
  }
  std::string text;
  char buffer[64 * 1024];
  while (text.size() <= internal::kMaxConfigBytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::NotFoundError(absl::StrCat("cannot read: ", ErrnoText(errno)));
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("config is over the limit of ", internal::kMaxConfigBytes >> 20, " MiB"));
}

// A config file's relative python_path entries name folders beside the
// file, wherever the program runs from: each becomes <file's folder>/entry
// (absolute, lexically normalised). Absolute entries are kept as written.
// A folder whose path holds ':' (the PYTHONPATH separator) cannot be one.
absl::Status ResolvePythonPaths(Config& config, const std::string& config_path) {
  std::error_code error;
  const std::filesystem::path folder = std::filesystem::absolute(config_path, error).parent_path();
  if (error) return absl::InvalidArgumentError(absl::StrCat("cannot resolve its folder: ", error.message()));
  for (std::size_t p = 0; p < config.pools.size(); ++p) {
    std::vector<std::string>& entries = config.pools[p].python_path;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!std::filesystem::path(entries[i]).is_relative()) continue;
      std::string resolved = (folder / entries[i]).lexically_normal().string();
      if (resolved.find(':') != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("pools[", p, "].python_path[", i, "]: relative, and \"",
                                                       resolved, "\" contains ':', the PYTHONPATH separator"));
      }
      entries[i] = std::move(resolved);
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kProcess:
      return "process";
    case Profile::kThread:
      return "thread";
  }
  return "unknown";
}

std::string_view WorkerTransportName(WorkerTransport transport) {
  switch (transport) {
    case WorkerTransport::kAuto:
      return "auto";
    case WorkerTransport::kNative:
      return "native";
    case WorkerTransport::kGrpcio:
      return "grpcio";
    case WorkerTransport::kShm:
      return "shm";
  }
  return "unknown";
}

std::string_view StartMethodName(StartMethod method) {
  switch (method) {
    case StartMethod::kAuto:
      return "auto";
    case StartMethod::kSpawn:
      return "spawn";
    case StartMethod::kTemplate:
      return "template";
  }
  return "unknown";
}

std::string_view AutoscaleTargetName(AutoscaleTarget target) {
  switch (target) {
    case AutoscaleTarget::kUtilization:
      return "utilization";
    case AutoscaleTarget::kQueueDepth:
      return "queue_depth";
  }
  return "unknown";
}

int PoolConfig::effective_pool_size() const {
  if (pool_size != 0) return pool_size;
  if (autoscale) return autoscale->min_workers;
  return profile == Profile::kThread ? kDefaultThreadPoolSize : kDefaultProcessPoolSize;
}

int PoolConfig::effective_threads_per_worker() const {
  if (profile != Profile::kThread) return 1;
  return threads_per_worker != 0 ? threads_per_worker : kDefaultThreadsPerWorker;
}

absl::StatusOr<Config> Config::FromJson(const nlohmann::json& json) {
  try {
    SNAKEPIT_ASSIGN_OR_RETURN(internal::ParsedConfig parsed, internal::ParseConfigJson(json));
    SNAKEPIT_RETURN_IF_ERROR(internal::ValidateConfig(parsed.config, parsed.path_style));
    return std::move(parsed.config);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while loading the config");
  }
}

absl::StatusOr<Config> Config::FromJsonString(std::string_view text) {
  if (text.size() > internal::kMaxConfigBytes) {
    return absl::InvalidArgumentError(TooLargeMessage(text.size()));
  }
  SNAKEPIT_ASSIGN_OR_RETURN(const nlohmann::json document, internal::ParseJsonText(text));
  return FromJson(document);
}

absl::StatusOr<Config> Config::FromJsonFile(const std::string& path) {
  absl::StatusOr<Config> config;
  try {
    absl::StatusOr<std::string> text = ReadConfigFile(path);
    if (text.ok()) {
      config = FromJsonString(*text);
    } else {
      config = text.status();
    }
  } catch (const std::bad_alloc&) {
    config = absl::ResourceExhaustedError("out of memory while reading the config");
  }
  if (config.ok()) {
    absl::Status resolved = ResolvePythonPaths(*config, path);
    if (!resolved.ok()) config = resolved;
  }
  if (!config.ok()) {
    // Name the file: "pools.json: pools[0].pool_size: must be >= 1".
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace snakepit
