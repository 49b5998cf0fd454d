// snakepit doctor: the environment report and recommendations.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "cli/cli.h"
#include "cli/transport_choice.h"
#include "snakepit/compatibility.h"
#include "snakepit/python_environment.h"

namespace snakepit::cli {
namespace {

const std::map<std::string, Workload> kWorkloads = {{"cpu", Workload::kPurePythonCpu},
                                                    {"native", Workload::kNativeNoGil},
                                                    {"io", Workload::kIo},
                                                    {"unknown", Workload::kUnknown}};

// RecommendProfile warns that grpc does not import; when the native
// transport does, pools run all the same and the transport line says so.
bool SupersededByTransport(const std::string& warning, const TransportChoice& transport) {
  return (transport.chosen == "native" || transport.chosen == "shm") &&
         warning.find("grpcio worker transport cannot run") != std::string::npos;
}

class DoctorCommand final : public Command {
 public:
  void Define(CLI::App& cmd) override {
    cmd.footer(
        "Probes a Python interpreter and reports its version, whether it is a free-threaded build\n"
        "and whether the GIL is really off, its grpc and protobuf, whether the native worker\n"
        "transport imports and which transport a pool would use, the installed libraries the\n"
        "thread-safety matrix knows, and the worker profile that fits.");
    // The options, one line each.
    cmd.add_option("--python", probe_.python, "interpreter to probe (default: /usr/bin/python3)")->option_text("PATH");
    cmd.add_option("--requirements", requirements_, "report on a requirements.txt instead of what is installed")
        ->option_text("FILE");
    cmd.add_option("--workload", workload_,
                   "what the calls do: cpu (pure Python), native (releases the GIL),\nio, or unknown (default)")
        ->option_text("KIND")
        ->check(CLI::IsMember({"cpu", "native", "io", "unknown"}));
    cmd.add_option("--import", probe_.imports,
                   "also import MODULE, to see whether it turns the GIL back on\n(repeatable)")
        ->option_text("MODULE")
        ->allow_extra_args(false);
    cmd.add_flag("--json", json_, "print one JSON object");
  }

  int Execute() override;

 private:
  void PrintText(const PythonEnvironment& env, const TransportChoice& transport,
                 const std::vector<CompatibilityEntry>& report, const ProfileRecommendation& advice) const;

  ProbeOptions probe_;
  std::string requirements_;  // "": report what is installed
  std::string workload_ = "unknown";
  bool json_ = false;
};

int DoctorCommand::Execute() {
  std::vector<std::string> requirements;
  if (!requirements_.empty()) {
    std::ifstream in(requirements_);
    if (!in) {
      std::fprintf(stderr, "snakepit doctor: cannot read requirements file '%s'\n", requirements_.c_str());
      return kFailed;
    }
    for (std::string line; std::getline(in, line);) requirements.push_back(line);
  }
  // The modules a worker imports for its transport, imported as it would.
  probe_.imports.insert(probe_.imports.begin(), {kNativeTransportModule, kGrpcioTransportModule});
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe(probe_);
  if (!env.ok()) {
    std::fprintf(stderr, "snakepit doctor: %s\n", std::string(env.status().message()).c_str());
    return kFailed;
  }
  nlohmann::json& import_errors = env->raw["import_errors"];
  const TransportChoice transport = ChooseTransport(import_errors, ProbeSharedMemory());
  const CompatibilityMatrix& matrix = CompatibilityMatrix::Builtin();
  const std::vector<CompatibilityEntry> report =
      requirements_.empty() ? matrix.ReportInstalled(env->packages) : matrix.Report(requirements);
  ProfileRecommendation advice = RecommendProfile(*env, kWorkloads.at(workload_));
  std::erase_if(advice.warnings, [&](const std::string& w) { return SupersededByTransport(w, transport); });

  if (json_) {
    nlohmann::json entries = nlohmann::json::array();
    for (const CompatibilityEntry& e : report) entries.push_back(e.ToJson());
    nlohmann::json out = {
        {"environment", env->ToJson()},
        {"transport", transport.ToJson()},
        {"compatibility",
         {{"source", requirements_.empty() ? "installed" : "requirements"}, {"entries", std::move(entries)}}},
        {"recommendation", advice.ToJson()}};
    std::cout << out.dump(2) << "\n";
    return kOk;
  }
  PrintText(*env, transport, report, advice);
  return kOk;
}

void DoctorCommand::PrintText(const PythonEnvironment& env, const TransportChoice& transport,
                              const std::vector<CompatibilityEntry>& report,
                              const ProfileRecommendation& advice) const {
  std::ostringstream out;
  out << "Python        " << env.version << " (" << env.implementation << ") " << env.executable << "\n"
      << "build         " << (env.free_threaded_build ? "free-threaded" : "GIL (not free-threaded)") << "; GIL "
      << (env.gil_enabled_after_imports ? "enabled" : "disabled") << " at run time";
  if (!env.gil_reenabled_by.empty()) out << " (re-enabled by " << absl::StrJoin(env.gil_reenabled_by, ", ") << ")";
  out << "\n";
  if (const auto errors = env.raw.find("import_errors"); errors != env.raw.end() && errors->is_object()) {
    for (const auto& [module, error] : errors->items()) {
      out << "import        " << module << " failed: " << (error.is_string() ? error.get<std::string>() : error.dump())
          << "\n";
    }
  }
  out << "grpc          " << (env.grpc_version.empty() ? "not importable: " + env.grpc_error : env.grpc_version) << "\n"
      << "protobuf      " << (env.protobuf_version.empty() ? "not importable" : env.protobuf_version)
      << (env.protobuf_implementation.empty() ? "" : " (" + env.protobuf_implementation + ")") << "\n"
      << "native        "
      << (transport.native_error ? "does not import: " + *transport.native_error : "imports (snakepit_worker._native)")
      << "\n"
      << "transport     " << (transport.chosen.empty() ? "none" : transport.chosen) << ": " << transport.reason << "\n"
      << "cpus          " << env.cpu_count << "   packages " << env.packages.size() << "   " << env.platform << "\n\n";
  out << (requirements_.empty() ? "Installed libraries the thread-safety matrix knows" : "Requirements") << ":\n";
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
}

}  // namespace

std::unique_ptr<Command> MakeDoctor() { return std::make_unique<DoctorCommand>(); }

}  // namespace snakepit::cli
