// snakepit doctor: the environment report and recommendations.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "cli/cli.h"
#include "snakepit/compatibility.h"
#include "snakepit/python_environment.h"

namespace snakepit::cli {
namespace {

constexpr const char* kHelp =
    "usage: snakepit doctor [--python PATH] [--requirements FILE] [--workload KIND] [--import MODULE]... [--json]\n"
    "\n"
    "Probes a Python interpreter and reports its version, whether it is a free-threaded build\n"
    "and whether the GIL is really off, its grpc and protobuf, the installed libraries the\n"
    "thread-safety matrix knows, and the worker profile that fits.\n"
    "\n"
    "  --python PATH        interpreter to probe (default: /usr/bin/python3)\n"
    "  --requirements FILE  report on a requirements.txt instead of what is installed\n"
    "  --workload KIND      what the calls do: cpu (pure Python), native (releases the GIL),\n"
    "                       io, or unknown (default)\n"
    "  --import MODULE      also import MODULE, to see whether it turns the GIL back on\n"
    "  --json               print one JSON object\n";

std::optional<Workload> ParseWorkload(const std::string& text) {
  if (text == "cpu") return Workload::kPurePythonCpu;
  if (text == "native") return Workload::kNativeNoGil;
  if (text == "io") return Workload::kIo;
  if (text == "unknown") return Workload::kUnknown;
  return std::nullopt;
}

}  // namespace

int Doctor(const std::vector<std::string>& argv) {
  // --import may repeat: collect it before the generic parser keeps the last.
  ProbeOptions probe;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i].rfind("--import=", 0) == 0) {
      probe.imports.push_back(argv[i].substr(9));
    } else if (argv[i] == "--import") {
      if (i + 1 >= argv.size()) return UsageError("doctor", "--import needs a value");
      probe.imports.push_back(argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  const Args args = Parse(rest, {"--help", "--json"}, {"--python", "--requirements", "--workload"});
  if (!args.error.empty()) return UsageError("doctor", args.error);
  if (args.has("--help")) {
    std::fputs(kHelp, stdout);
    return kOk;
  }
  if (!args.positional.empty()) return UsageError("doctor", "unexpected argument '" + args.positional[0] + "'");
  const std::optional<Workload> workload = ParseWorkload(args.value("--workload").value_or("unknown"));
  if (!workload) return UsageError("doctor", "--workload must be cpu, native, io or unknown");
  probe.python = args.value("--python").value_or("");

  std::vector<std::string> requirements;
  if (auto file = args.value("--requirements")) {
    std::ifstream in(*file);
    if (!in) {
      std::fprintf(stderr, "snakepit doctor: cannot read requirements file '%s'\n", file->c_str());
      return kFailed;
    }
    for (std::string line; std::getline(in, line);) requirements.push_back(line);
  }

  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe(probe);
  if (!env.ok()) {
    std::fprintf(stderr, "snakepit doctor: %s\n", std::string(env.status().message()).c_str());
    return kFailed;
  }
  const CompatibilityMatrix& matrix = CompatibilityMatrix::Builtin();
  const std::vector<CompatibilityEntry> report =
      args.has("--requirements") ? matrix.Report(requirements) : matrix.ReportInstalled(env->packages);
  const ProfileRecommendation advice = RecommendProfile(*env, *workload);

  if (args.has("--json")) {
    nlohmann::json entries = nlohmann::json::array();
    for (const CompatibilityEntry& e : report) entries.push_back(e.ToJson());
    nlohmann::json out = {
        {"environment", env->ToJson()},
        {"compatibility",
         {{"source", args.has("--requirements") ? "requirements" : "installed"}, {"entries", std::move(entries)}}},
        {"recommendation", advice.ToJson()}};
    std::cout << out.dump(2) << "\n";
    return kOk;
  }
  std::ostringstream out;
  out << "Python        " << env->version << " (" << env->implementation << ") " << env->executable << "\n"
      << "build         " << (env->free_threaded_build ? "free-threaded" : "GIL (not free-threaded)") << "; GIL "
      << (env->gil_enabled_after_imports ? "enabled" : "disabled") << " at run time";
  if (!env->gil_reenabled_by.empty()) out << " (re-enabled by " << absl::StrJoin(env->gil_reenabled_by, ", ") << ")";
  out << "\n";
  if (const auto errors = env->raw.find("import_errors"); errors != env->raw.end() && errors->is_object()) {
    for (const auto& [module, error] : errors->items()) {
      out << "import        " << module << " failed: " << (error.is_string() ? error.get<std::string>() : error.dump())
          << "\n";
    }
  }
  out << "grpc          " << (env->grpc_version.empty() ? "not importable: " + env->grpc_error : env->grpc_version)
      << "\n"
      << "protobuf      " << (env->protobuf_version.empty() ? "not importable" : env->protobuf_version)
      << (env->protobuf_implementation.empty() ? "" : " (" + env->protobuf_implementation + ")") << "\n"
      << "cpus          " << env->cpu_count << "   packages " << env->packages.size() << "   " << env->platform
      << "\n\n";
  out << (args.has("--requirements") ? "Requirements" : "Installed libraries the thread-safety matrix knows") << ":\n";
  if (report.empty()) out << "  (none)\n";
  for (const CompatibilityEntry& e : report) {
    out << "  " << e.name << (e.version.empty() ? "" : " " + e.version) << ": ";
    if (!e.known) {
      out << "not in the matrix\n";
      continue;
    }
    out << ThreadSafetyName(e.thread_safe);
    if (e.meets_min_version.has_value() && !*e.meets_min_version) out << " (older than " << e.min_version << ")";
    out << ". " << e.notes << "\n";
  }
  out << "\nRecommended profile: " << ProfileName(advice.profile) << "\n";
  for (const std::string& r : advice.reasons) out << "  - " << r << "\n";
  for (const std::string& w : advice.warnings) out << "  ! " << w << "\n";
  std::cout << out.str();
  return kOk;
}

}  // namespace snakepit::cli
