// The Python environment probe, run with Debian's real interpreter, and the
// profile recommendation drawn from it.
#include "snakepit/python_environment.h"

#include "gtest/gtest.h"

namespace snakepit {
namespace {

TEST(PythonEnvironment, ProbesDebiansGilInterpreter) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.python = "/usr/bin/python3"});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->version.rfind("3.", 0), 0u) << env->version;
  EXPECT_EQ(env->implementation, "cpython");
  EXPECT_FALSE(env->free_threaded_build);
  EXPECT_TRUE(env->gil_enabled);
  EXPECT_TRUE(env->gil_enabled_after_imports);
  EXPECT_FALSE(env->runs_threads_in_parallel());
  EXPECT_FALSE(env->grpc_version.empty()) << env->grpc_error;
  EXPECT_FALSE(env->protobuf_version.empty());
  EXPECT_TRUE(env->packages.contains("numpy"));
  EXPECT_TRUE(env->packages.contains("grpcio"));
  EXPECT_GT(env->cpu_count, 0);
}

TEST(PythonEnvironment, WithoutPackagesIsQuickerAndListsNone) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.packages = false});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_TRUE(env->packages.empty());
  EXPECT_FALSE(env->version.empty());
}

TEST(PythonEnvironment, MissingInterpreterIsNotFound) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.python = "/nonexistent/python3"});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(env.status().message().find("/nonexistent/python3"), std::string::npos);
}

TEST(PythonEnvironment, AnInterpreterThatFailsTheProbeSaysWhy) {
  // /bin/false "runs" but answers nothing.
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.python = "/bin/false"});
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(env.status().message().find("exit status 1"), std::string::npos) << env.status();
}

TEST(RecommendProfile, GilInterpreterGetsProcessesForPythonCpuWork) {
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::Probe({.packages = false});
  ASSERT_TRUE(env.ok()) << env.status();
  const ProfileRecommendation cpu = RecommendProfile(*env, Workload::kPurePythonCpu);
  EXPECT_EQ(cpu.profile, Profile::kProcess);
  ASSERT_FALSE(cpu.reasons.empty());
  EXPECT_NE(cpu.reasons[0].find("GIL enabled"), std::string::npos) << cpu.reasons[0];
  EXPECT_EQ(RecommendProfile(*env, Workload::kIo).profile, Profile::kThread);
  EXPECT_EQ(RecommendProfile(*env, Workload::kUnknown).profile, Profile::kProcess);
}

TEST(RecommendProfile, FreeThreadedInterpreterGetsThreadsUnlessAModuleReenablesTheGil) {
  nlohmann::json probe = {{"version", "3.13.15"},
                          {"implementation", "cpython"},
                          {"free_threaded_build", true},
                          {"gil_enabled", false},
                          {"gil_enabled_after_imports", false},
                          {"grpc_version", nullptr},
                          {"grpc_error", "No module named 'grpc._cython'"},
                          {"packages", {{"matplotlib", "3.8.0"}}}};
  absl::StatusOr<PythonEnvironment> env = PythonEnvironment::FromJson(probe);
  ASSERT_TRUE(env.ok()) << env.status();
  const ProfileRecommendation r = RecommendProfile(*env, Workload::kPurePythonCpu);
  EXPECT_EQ(r.profile, Profile::kThread);
  // grpc missing and an unsafe library installed are warned about.
  bool grpc_warned = false, matplotlib_warned = false;
  for (const std::string& w : r.warnings) {
    grpc_warned |= w.find("grpc does not import") != std::string::npos;
    matplotlib_warned |= w.find("matplotlib") != std::string::npos;
  }
  EXPECT_TRUE(grpc_warned);
  EXPECT_TRUE(matplotlib_warned);

  probe["gil_enabled_after_imports"] = true;
  probe["gil_reenabled_by"] = {"legacy_ext"};
  env = PythonEnvironment::FromJson(probe);
  ASSERT_TRUE(env.ok());
  const ProfileRecommendation back = RecommendProfile(*env, Workload::kPurePythonCpu);
  EXPECT_EQ(back.profile, Profile::kProcess);
  ASSERT_FALSE(back.warnings.empty());
  EXPECT_NE(back.warnings[0].find("legacy_ext"), std::string::npos) << back.warnings[0];
}

}  // namespace
}  // namespace snakepit
