// Tests of snakepit::Config: JSON loading, the legacy form, defaults, unit
// conversions, every validation rule (via JSON and via Validate()), and
// file handling.
#include "snakepit/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace snakepit {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

// Passes when `status` is INVALID_ARGUMENT with exactly `message`.
::testing::AssertionResult IsInvalid(const absl::Status& status, std::string_view message) {
  if (status.code() == absl::StatusCode::kInvalidArgument && Str(status.message()) == message) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << status << "\n  want INVALID_ARGUMENT: " << message;
}

// Passes when `status` has `code` and its message contains `part`.
::testing::AssertionResult FailsWith(const absl::Status& status, absl::StatusCode code, std::string_view part) {
  if (status.code() == code && Str(status.message()).find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << status << "\n  want code " << absl::StatusCodeToString(code)
                                       << " containing: " << part;
}

absl::Status LoadStatus(std::string_view text) { return Config::FromJsonString(text).status(); }

// Loads a document with one pool entry {"name": "p", <fields>}.
absl::Status PoolStatus(std::string_view fields) {
  return LoadStatus("{\"pools\": [{\"name\": \"p\", " + std::string(fields) + "}]}");
}

Config MustLoad(std::string_view text) {
  absl::StatusOr<Config> config = Config::FromJsonString(text);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *std::move(config) : Config{};
}

PoolConfig MustLoadPool(std::string_view fields) {
  Config config = MustLoad("{\"pools\": [{\"name\": \"p\", " + std::string(fields) + "}]}");
  return config.pools.empty() ? PoolConfig{} : config.pools[0];
}

// A unique path under the test temp directory.
std::string TempPath(std::string_view name) {
  return ::testing::TempDir() + "/snakepit_config_test_" + std::to_string(::getpid()) + "_" + std::string(name);
}

std::string WriteFile(std::string_view name, std::string_view contents) {
  const std::string path = TempPath(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return path;
}

void ExpectLifecycleDefaults(const PoolConfig& pool) {
  EXPECT_EQ(pool.worker_ttl, milliseconds(0));
  EXPECT_EQ(pool.worker_ttl_jitter, milliseconds(0));
  EXPECT_EQ(pool.worker_max_requests, 0);
  EXPECT_EQ(pool.worker_max_requests_jitter, 0);
  EXPECT_EQ(pool.worker_max_memory_mb, 0);
  EXPECT_EQ(pool.memory_check_interval, milliseconds(1'000));
  EXPECT_EQ(pool.health_check_interval, milliseconds(0));
  EXPECT_EQ(pool.health_check_timeout, milliseconds(5'000));
  EXPECT_EQ(pool.health_check_failures, 3);
  EXPECT_EQ(pool.call_kill_timeout, milliseconds(10'000));
  EXPECT_EQ(pool.stream_buffer, 16);
  EXPECT_EQ(pool.reply_poll_us, 50);
  EXPECT_EQ(pool.max_surge, 1);
  EXPECT_EQ(pool.restart_backoff_initial, milliseconds(100));
  EXPECT_EQ(pool.restart_backoff_max, milliseconds(30'000));
  EXPECT_EQ(pool.degraded_after_failures, 3);
}

void ExpectDefaults(const PoolConfig& pool) {
  EXPECT_EQ(pool.profile, Profile::kProcess);
  EXPECT_EQ(pool.pool_size, 0);
  EXPECT_EQ(pool.threads_per_worker, 0);
  EXPECT_EQ(pool.effective_pool_size(), 4);
  EXPECT_EQ(pool.effective_threads_per_worker(), 1);
  EXPECT_EQ(pool.python, "");
  EXPECT_EQ(pool.worker_transport, WorkerTransport::kAuto);
  EXPECT_EQ(pool.start_method, StartMethod::kSpawn);
  EXPECT_EQ(pool.adapter, "snakepit_worker.showcase:ShowcaseAdapter");
  EXPECT_TRUE(pool.python_path.empty());
  EXPECT_TRUE(pool.extra_args.empty());
  EXPECT_TRUE(pool.env.empty());
  EXPECT_EQ(pool.preload, json::array());
  EXPECT_EQ(pool.startup_batch_size, 8);
  EXPECT_EQ(pool.startup_timeout, milliseconds(30'000));
  EXPECT_EQ(pool.max_queue, 1000);
  EXPECT_EQ(pool.queue_timeout, milliseconds(5'000));
  EXPECT_EQ(pool.call_timeout, milliseconds(30'000));
  EXPECT_FALSE(pool.fallback_to_process);
  EXPECT_EQ(pool.max_message_bytes, std::int64_t{128} << 20);
  EXPECT_EQ(pool.drain_timeout, milliseconds(30'000));
  EXPECT_EQ(pool.kill_grace, milliseconds(5'000));
  ExpectLifecycleDefaults(pool);
}

// --- Profiles and defaults ---------------------------------------------

TEST(ProfileTest, Names) {
  EXPECT_EQ(ProfileName(Profile::kProcess), "process");
  EXPECT_EQ(ProfileName(Profile::kThread), "thread");
}

TEST(ProfileTest, EffectiveValuesPerProfile) {
  PoolConfig process;
  EXPECT_EQ(process.effective_pool_size(), 4);
  EXPECT_EQ(process.effective_threads_per_worker(), 1);
  process.pool_size = 7;
  EXPECT_EQ(process.effective_pool_size(), 7);

  PoolConfig thread;
  thread.profile = Profile::kThread;
  EXPECT_EQ(thread.effective_pool_size(), 2);
  EXPECT_EQ(thread.effective_threads_per_worker(), 4);
  thread.pool_size = 3;
  thread.threads_per_worker = 16;
  EXPECT_EQ(thread.effective_pool_size(), 3);
  EXPECT_EQ(thread.effective_threads_per_worker(), 16);
}

TEST(ConfigJsonTest, EmptyObjectIsOneDefaultPool) {
  Config config = MustLoad("{}");
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_EQ(config.pools[0].name, "default");
  ExpectDefaults(config.pools[0]);
  EXPECT_EQ(config.socket_dir, "");
}

TEST(ConfigJsonTest, MinimalPoolHasAllDefaults) {
  Config config = MustLoad(R"({"pools": [{"name": "only"}]})");
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_EQ(config.pools[0].name, "only");
  ExpectDefaults(config.pools[0]);
}

TEST(ConfigJsonTest, ThreadProfileDefaults) {
  PoolConfig pool = MustLoadPool(R"("profile": "thread")");
  EXPECT_EQ(pool.profile, Profile::kThread);
  EXPECT_EQ(pool.effective_pool_size(), 2);
  EXPECT_EQ(pool.effective_threads_per_worker(), 4);
}

// --- Legacy form -------------------------------------------------------

TEST(ConfigJsonTest, LegacyTopLevelKeysBecomePoolDefault) {
  Config config = MustLoad(
      R"({"pool_size": 3, "adapter": "my.mod:Adapter", "call_timeout": 2,
          "socket_dir": "/run/sp"})");
  ASSERT_EQ(config.pools.size(), 1u);
  const PoolConfig& pool = config.pools[0];
  EXPECT_EQ(pool.name, "default");
  EXPECT_EQ(pool.pool_size, 3);
  EXPECT_EQ(pool.adapter, "my.mod:Adapter");
  EXPECT_EQ(pool.call_timeout, milliseconds(2000));
  EXPECT_EQ(config.socket_dir, "/run/sp");
}

TEST(ConfigJsonTest, LegacyFormMayNameThePool) {
  Config config = MustLoad(R"({"name": "solo", "profile": "thread"})");
  ASSERT_EQ(config.pools.size(), 1u);
  EXPECT_EQ(config.pools[0].name, "solo");
  EXPECT_EQ(config.pools[0].profile, Profile::kThread);
}

TEST(ConfigJsonTest, LegacyErrorsUseTopLevelPaths) {
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pool_size": 0})"), "pool_size: must be >= 1"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pool_sise": 2})"), "pool_sise: unknown key (did you mean \"pool_size\"?)"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"threads_per_worker": 2})"),
                        "threads_per_worker: the process profile runs one call per worker; "
                        "use profile \"thread\" for more"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pool": []})"), "pool: unknown key (did you mean \"pools\"?)"));
}

TEST(ConfigJsonTest, PoolKeysAtTopLevelBesidePoolsAreRejected) {
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a"}], "pool_size": 2})"),
                        "pool_size: pool keys go inside the entries of \"pools\" when "
                        "\"pools\" is given"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a"}], "socket_dri": "/x"})"),
                        "socket_dri: unknown key (did you mean \"socket_dir\"?)"));
}

// --- Structure ---------------------------------------------------------

TEST(ConfigJsonTest, StructureErrors) {
  EXPECT_TRUE(IsInvalid(LoadStatus("[]"), "expected a JSON object at the top level, got array"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": {}})"), "pools: expected an array of pool objects, got object"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": []})"), "pools: must list at least one pool"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a"}, "b"]})"), "pools[1]: expected an object, got string"));
  EXPECT_TRUE(
      IsInvalid(LoadStatus(R"({"pools": [{"pool_size": 2}]})"), "pools[0].name: required in every entry of \"pools\""));
  EXPECT_TRUE(IsInvalid(Config::FromJson(json(42)).status(), "expected a JSON object at the top level, got number"));
}

TEST(ConfigJsonTest, UnknownKeysSuggestCloseOnes) {
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("pool_sise": 4)"), "pools[0].pool_sise: unknown key (did you mean \"pool_size\"?)"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("call_timout": 4)"),
                        "pools[0].call_timout: unknown key (did you mean \"call_timeout\"?)"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("colour": "red")"), "pools[0].colour: unknown key"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"": 1})"), "unknown key \"\""));
}

TEST(ConfigJsonTest, DuplicatePoolNames) {
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "hpc"}, {"name": "a"}, {"name": "hpc"}]})"),
                        "pools[2].name: duplicate pool name \"hpc\" (also pools[0])"));
}

TEST(ConfigJsonTest, DuplicateJsonKeys) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 2, "pool_size": 3)"), "pools[0]: duplicate key \"pool_size\""));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"socket_dir": "/a", "socket_dir": "/b"})"), "duplicate key \"socket_dir\""));
  // Equal keys in different objects are fine.
  EXPECT_TRUE(LoadStatus(R"({"pools": [{"name": "a"}, {"name": "b"}]})").ok());
}

// --- Types ---------------------------------------------------------------

TEST(ConfigJsonTest, TypeErrorsNameExpectedAndActualTypes) {
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a"}, {"name": "b", "pool_size": "4"}]})"),
                        "pools[1].pool_size: expected an integer, got string"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": true)"), "pools[0].pool_size: expected an integer, got boolean"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 4.5)"), "pools[0].pool_size: expected an integer, got 4.5"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("profile": 1)"), "pools[0].profile: expected a string, got number"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("fallback_to_process": "yes")"),
                        "pools[0].fallback_to_process: expected a boolean, got string"));
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("call_timeout": "10s")"), "pools[0].call_timeout: expected a number, got string"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("python_path": "/opt")"),
                        "pools[0].python_path: expected an array of strings, got string"));
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("extra_args": ["-v", 2])"), "pools[0].extra_args[1]: expected a string, got number"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("env": ["A=1"])"), "pools[0].env: expected an object of strings, got array"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("env": {"FOO": 1})"), "pools[0].env.FOO: expected a string, got number"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("preload": {"a": 1})"), "pools[0].preload: expected an array, got object"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": null}]})"), "pools[0].name: expected a string, got null"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"socket_dir": 5})"), "socket_dir: expected a string, got number"));
}

TEST(ConfigJsonTest, IntegralNumbersAreIntegers) {
  EXPECT_EQ(MustLoadPool(R"("pool_size": 4.0)").pool_size, 4);
  EXPECT_EQ(MustLoadPool(R"("max_queue": 2e3)").max_queue, 2000);
}

// --- Ranges and values -------------------------------------------------

TEST(ConfigJsonTest, IntegerRanges) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 0)"), "pools[0].pool_size: must be >= 1"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 1025)"), "pools[0].pool_size: must be <= 1024"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 1e30)"), "pools[0].pool_size: must be <= 1024"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 18446744073709551615)"), "pools[0].pool_size: must be <= 1024"));
  EXPECT_EQ(MustLoadPool(R"("pool_size": 1024)").pool_size, 1024);
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("profile": "thread", "threads_per_worker": 0)"),
                        "pools[0].threads_per_worker: must be >= 1"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("profile": "thread", "threads_per_worker": 1025)"),
                        "pools[0].threads_per_worker: must be <= 1024"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("startup_batch_size": 0)"), "pools[0].startup_batch_size: must be >= 1"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("max_queue": -1)"), "pools[0].max_queue: must be >= 0"));
  EXPECT_EQ(MustLoadPool(R"("max_queue": 0)").max_queue, 0);
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("reply_poll_us": -1)"), "pools[0].reply_poll_us: must be >= 0"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("reply_poll_us": 10001)"), "pools[0].reply_poll_us: must be <= 10000"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("reply_poll_us": 2.5)"), "pools[0].reply_poll_us: expected an integer, got 2.5"));
  EXPECT_EQ(MustLoadPool(R"("reply_poll_us": 0)").reply_poll_us, 0);
}

TEST(ConfigJsonTest, Autoscale) {
  const PoolConfig pool = MustLoadPool(R"("autoscale": {"min_workers": 2, "max_workers": 6, "target": "queue_depth",
      "target_queue_depth": 3, "hysteresis": 0.1, "scale_up_delay": 0.5, "scale_down_delay": 20,
      "idle_timeout": 0, "sample_interval": 0.1})");
  ASSERT_TRUE(pool.autoscale.has_value());
  EXPECT_EQ(pool.autoscale->min_workers, 2);
  EXPECT_EQ(pool.autoscale->max_workers, 6);
  EXPECT_EQ(pool.autoscale->target, AutoscaleTarget::kQueueDepth);
  EXPECT_EQ(pool.autoscale->target_queue_depth, 3);
  EXPECT_EQ(pool.autoscale->scale_up_delay, milliseconds(500));
  EXPECT_EQ(pool.autoscale->idle_timeout, milliseconds(0));
  EXPECT_EQ(pool.effective_pool_size(), 2);  // starts at min_workers
  EXPECT_EQ(MustLoadPool(R"("pool_size": 3, "autoscale": {})").effective_pool_size(), 3);
  EXPECT_FALSE(MustLoadPool(R"("pool_size": 3)").autoscale.has_value());
  EXPECT_EQ(MustLoadPool(R"("affinity_max_keys": 5)").affinity_max_keys, 5);
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"min_workers": 3, "max_workers": 2})"),
                        "pools[0].autoscale.max_workers: must be >= min_workers (3), got 2"));
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("autoscale": {"min_workers": 0})"), "pools[0].autoscale.min_workers: must be >= 1"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("pool_size": 9, "autoscale": {"max_workers": 8})"),
                        "pools[0].pool_size: must lie within autoscale's [min_workers, max_workers] = [1, 8], got 9 "
                        "(leave it out to start at min_workers)"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"target": "cpu"})"),
                        "pools[0].autoscale.target: unknown target \"cpu\" (expected \"utilization\" or "
                        "\"queue_depth\")"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"target_utilization": 1.5})"),
                        "pools[0].autoscale.target_utilization: must be in (0, 1] (a share of the slots), got 1.5"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"target_queue_depth": 5})"),
                        "pools[0].autoscale.target_queue_depth: only applies to target \"queue_depth\""));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"hysteresis": 1})"),
                        "pools[0].autoscale.hysteresis: must be in [0, 0.9], got 1"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("autoscale": {"sample_interval": 0.001})"),
                        "pools[0].autoscale.sample_interval: must be at least 10 ms, got 1 ms"));
  EXPECT_TRUE(FailsWith(PoolStatus(R"("autoscale": {"max_worker": 2})"), absl::StatusCode::kInvalidArgument,
                        "pools[0].autoscale.max_worker"));
  EXPECT_TRUE(FailsWith(PoolStatus(R"("autoscale": 4)"), absl::StatusCode::kInvalidArgument,
                        "pools[0].autoscale: expected an object"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("affinity_max_keys": 0)"), "pools[0].affinity_max_keys: must be >= 1"));
  // The same rules for a config built in C++.
  Config config;
  config.pools.emplace_back();
  config.pools[0].autoscale = AutoscaleConfig{.min_workers = 4, .max_workers = 2};
  EXPECT_TRUE(IsInvalid(config.Validate(), "pools[0].autoscale.max_workers: must be >= min_workers (4), got 2"));
}

TEST(ConfigJsonTest, ThreadsPerWorkerNeedsThreadProfile) {
  const std::string message =
      "pools[0].threads_per_worker: the process profile runs one call per worker; use "
      "profile \"thread\" for more";
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("threads_per_worker": 4)"), message));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("profile": "process", "threads_per_worker": 2)"), message));
  EXPECT_EQ(MustLoadPool(R"("threads_per_worker": 1)").threads_per_worker, 1);
  PoolConfig thread = MustLoadPool(R"("profile": "thread", "threads_per_worker": 8)");
  EXPECT_EQ(thread.effective_threads_per_worker(), 8);
}

TEST(ConfigJsonTest, UnknownProfile) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("profile": "threads")"),
                        "pools[0].profile: unknown profile \"threads\" (expected \"process\" or "
                        "\"thread\")"));
}

TEST(ConfigJsonTest, WorkerTransport) {
  EXPECT_EQ(MustLoadPool(R"("worker_transport": "native")").worker_transport, WorkerTransport::kNative);
  EXPECT_EQ(MustLoadPool(R"("worker_transport": "grpcio")").worker_transport, WorkerTransport::kGrpcio);
  EXPECT_EQ(MustLoadPool(R"("worker_transport": "auto")").worker_transport, WorkerTransport::kAuto);
  EXPECT_EQ(MustLoadPool(R"("worker_transport": "shm")").worker_transport, WorkerTransport::kShm);
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_transport": "grpc")"),
                        "pools[0].worker_transport: unknown worker transport \"grpc\" (expected \"auto\", "
                        "\"shm\", \"native\" or \"grpcio\")"));
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("worker_transport": 1)"), "pools[0].worker_transport: expected a string, got number"));
  EXPECT_EQ(WorkerTransportName(WorkerTransport::kNative), "native");
}

TEST(ConfigJsonTest, StartMethod) {
  EXPECT_EQ(MustLoadPool(R"("start_method": "spawn")").start_method, StartMethod::kSpawn);
  EXPECT_EQ(MustLoadPool(R"("start_method": "auto")").start_method, StartMethod::kAuto);
  EXPECT_EQ(MustLoadPool(R"("start_method": "template")").start_method, StartMethod::kTemplate);
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("start_method": "fork")"),
                        "pools[0].start_method: unknown start method \"fork\" (expected \"auto\", "
                        "\"spawn\" or \"template\")"));
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("start_method": true)"), "pools[0].start_method: expected a string, got boolean"));
  EXPECT_EQ(StartMethodName(StartMethod::kTemplate), "template");
}

TEST(ConfigJsonTest, FallbackToProcessNeedsThreadProfile) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("fallback_to_process": true)"),
                        "pools[0].fallback_to_process: only applies to profile \"thread\""));
  EXPECT_TRUE(MustLoadPool(R"("profile": "thread", "fallback_to_process": true)").fallback_to_process);
}

TEST(ConfigJsonTest, PoolNames) {
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": ""}]})"), "pools[0].name: must not be empty"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a b"}]})"),
                        "pools[0].name: \"a b\" contains \" \"; pool names may use only "
                        "letters, digits, '_', '.' and '-'"));
  const std::string long_name(65, 'x');
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": ")" + long_name + "\"}]}"),
                        "pools[0].name: \"" + long_name + "\" is 65 characters long; the limit is 64"));
  const std::string ok_name = std::string(60, 'x') + "_.-9";
  EXPECT_EQ(MustLoad(R"({"pools": [{"name": ")" + ok_name + "\"}]}").pools[0].name, ok_name);
}

TEST(ConfigJsonTest, PythonAndAdapter) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("python": "")"),
                        "pools[0].python: must not be empty (leave the key out for the default)"));
  EXPECT_EQ(MustLoadPool(R"("python": "python3.13t")").python, "python3.13t");
  EXPECT_EQ(MustLoadPool(R"("adapter": "pkg.mod:Outer.Inner")").adapter, "pkg.mod:Outer.Inner");
  for (const char* bad : {"mod", ":C", "mod:", "1mod:C", "mod:C:D", "mod.:C", "m-x:C"}) {
    EXPECT_TRUE(FailsWith(PoolStatus(std::string("\"adapter\": \"") + bad + "\""), absl::StatusCode::kInvalidArgument,
                          "pools[0].adapter: must be \"module:Class\""))
        << bad;
  }
}

TEST(ConfigJsonTest, PathsArgsAndEnv) {
  PoolConfig pool = MustLoadPool(
      R"("python_path": ["/opt/a", "/opt/b"], "extra_args": ["--flag", ""],
         "env": {"PYTHONPATH": "/x", "OMP_NUM_THREADS": "2"})");
  EXPECT_EQ(pool.python_path, (std::vector<std::string>{"/opt/a", "/opt/b"}));
  EXPECT_EQ(pool.extra_args, (std::vector<std::string>{"--flag", ""}));
  EXPECT_EQ(pool.env.at("PYTHONPATH"), "/x");
  EXPECT_EQ(pool.env.at("OMP_NUM_THREADS"), "2");

  EXPECT_TRUE(IsInvalid(PoolStatus(R"("python_path": ["/a:/b"])"),
                        "pools[0].python_path[0]: \"/a:/b\" contains ':', the PYTHONPATH "
                        "separator"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("python_path": [""])"), "pools[0].python_path[0]: must not be empty"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("env": {"A=B": "1"})"),
                        "pools[0].env: variable name \"A=B\" must not contain '=' or NUL"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("env": {"": "1"})"), "pools[0].env: variable names must not be empty"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("extra_args": ["a\u0000b"])"),
                        "pools[0].extra_args[0]: must not contain a NUL character"));
}

TEST(ConfigJsonTest, Preload) {
  PoolConfig pool = MustLoadPool(R"("preload": ["matmul", {"model": "x", "n": [1, 2]}, null])");
  EXPECT_EQ(pool.preload, json::parse(R"(["matmul", {"model": "x", "n": [1, 2]}, null])"));
  const std::string big(200'000, 'a');
  EXPECT_TRUE(FailsWith(PoolStatus("\"preload\": [\"" + big + "\"]"), absl::StatusCode::kInvalidArgument,
                        "pools[0].preload: serializes to 200004 bytes of JSON; the limit is "
                        "131071"));
}

TEST(ConfigJsonTest, DurationsAreSecondsConvertedToMilliseconds) {
  PoolConfig pool = MustLoadPool(
      R"("startup_timeout": 0.25, "queue_timeout": 2, "call_timeout": 1.5,
         "drain_timeout": 0, "kill_grace": 0.001)");
  EXPECT_EQ(pool.startup_timeout, milliseconds(250));
  EXPECT_EQ(pool.queue_timeout, milliseconds(2000));
  EXPECT_EQ(pool.call_timeout, milliseconds(1500));
  EXPECT_EQ(pool.drain_timeout, milliseconds(0));
  EXPECT_EQ(pool.kill_grace, milliseconds(1));
  // Sub-millisecond positive values round up to 1 ms, never to zero.
  EXPECT_EQ(MustLoadPool(R"("call_timeout": 0.0001)").call_timeout, milliseconds(1));
  EXPECT_EQ(MustLoadPool(R"("call_timeout": 0.1)").call_timeout, milliseconds(100));
}

TEST(ConfigJsonTest, DurationRanges) {
  for (const char* key : {"startup_timeout", "queue_timeout", "call_timeout"}) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": 0"),
                          std::string("pools[0].") + key + ": must be > 0 seconds"));
  }
  for (const char* key : {"drain_timeout", "kill_grace"}) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": -1"),
                          std::string("pools[0].") + key + ": must be >= 0 seconds"));
  }
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("call_timeout": 1e300)"),
                        "pools[0].call_timeout: must be <= 31536000 seconds (365 days)"));
  EXPECT_EQ(MustLoadPool(R"("call_timeout": 31536000)").call_timeout, std::chrono::hours(24 * 365));
}

TEST(ConfigJsonTest, MaxMessageMb) {
  EXPECT_EQ(MustLoadPool(R"("max_message_mb": 1.5)").max_message_bytes, 1572864);
  EXPECT_EQ(MustLoadPool(R"("max_message_mb": 2047)").max_message_bytes, std::int64_t{2047} << 20);
  const std::string message = "pools[0].max_message_mb: must be > 0 and <= 2047 MiB (2146435072 bytes)";
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("max_message_mb": 0)"), message));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("max_message_mb": 2047.5)"), message));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("max_message_mb": -4)"), message));
}

// --- Lifecycle keys ------------------------------------------------------

TEST(ConfigJsonTest, LifecycleKeysRoundTrip) {
  PoolConfig pool = MustLoadPool(
      R"("worker_ttl": 3600.5, "worker_ttl_jitter": 0.25, "worker_max_requests": 10000,
         "worker_max_requests_jitter": 500, "worker_max_memory_mb": 2048,
         "memory_check_interval": 0.5, "health_check_interval": 2.5, "health_check_timeout": 0.75,
         "health_check_failures": 5, "call_kill_timeout": 1.5, "max_surge": 0,
         "restart_backoff_initial": 0.05, "restart_backoff_max": 60, "degraded_after_failures": 10)");
  EXPECT_EQ(pool.worker_ttl, milliseconds(3'600'500));
  EXPECT_EQ(pool.worker_ttl_jitter, milliseconds(250));
  EXPECT_EQ(pool.worker_max_requests, 10000);
  EXPECT_EQ(pool.worker_max_requests_jitter, 500);
  EXPECT_EQ(pool.worker_max_memory_mb, 2048);
  EXPECT_EQ(pool.memory_check_interval, milliseconds(500));
  EXPECT_EQ(pool.health_check_interval, milliseconds(2'500));
  EXPECT_EQ(pool.health_check_timeout, milliseconds(750));
  EXPECT_EQ(pool.health_check_failures, 5);
  EXPECT_EQ(pool.call_kill_timeout, milliseconds(1'500));
  EXPECT_EQ(pool.max_surge, 0);
  EXPECT_EQ(pool.restart_backoff_initial, milliseconds(50));
  EXPECT_EQ(pool.restart_backoff_max, milliseconds(60'000));
  EXPECT_EQ(pool.degraded_after_failures, 10);

  // The bounds themselves are accepted; integral floats count as integers.
  pool = MustLoadPool(
      R"("worker_max_requests": 9007199254740992, "worker_max_requests_jitter": 9007199254740992,
         "worker_max_memory_mb": 16777216, "health_check_failures": 1000, "max_surge": 1024,
         "degraded_after_failures": 1000000, "worker_ttl": 31536000, "restart_backoff_initial": 0.0001,
         "restart_backoff_max": 0.0001)");
  EXPECT_EQ(pool.worker_max_requests, std::int64_t{1} << 53);
  EXPECT_EQ(pool.worker_max_requests_jitter, std::int64_t{1} << 53);
  EXPECT_EQ(pool.worker_max_memory_mb, 16777216);
  EXPECT_EQ(pool.health_check_failures, 1000);
  EXPECT_EQ(pool.max_surge, 1024);
  EXPECT_EQ(pool.degraded_after_failures, 1'000'000);
  EXPECT_EQ(pool.worker_ttl, std::chrono::hours(24 * 365));
  EXPECT_EQ(pool.restart_backoff_initial, milliseconds(1));
  EXPECT_EQ(MustLoadPool(R"("worker_max_memory_mb": 512.0)").worker_max_memory_mb, 512);
}

TEST(ConfigJsonTest, LifecycleZeroMeansOff) {
  PoolConfig pool = MustLoadPool(
      R"("worker_ttl": 0, "worker_ttl_jitter": 0, "worker_max_requests": 0, "worker_max_requests_jitter": 0,
         "worker_max_memory_mb": 0, "health_check_interval": 0, "call_kill_timeout": 0, "max_surge": 0)");
  EXPECT_EQ(pool.worker_ttl, milliseconds(0));
  EXPECT_EQ(pool.worker_max_requests, 0);
  EXPECT_EQ(pool.worker_max_memory_mb, 0);
  EXPECT_EQ(pool.health_check_interval, milliseconds(0));
  EXPECT_EQ(pool.call_kill_timeout, milliseconds(0));
  EXPECT_EQ(pool.max_surge, 0);
  // A health check timeout longer than the interval is allowed.
  EXPECT_TRUE(PoolStatus(R"("health_check_interval": 1, "health_check_timeout": 10)").ok());
}

TEST(ConfigJsonTest, LifecycleDurationRanges) {
  for (const char* key : {"worker_ttl", "worker_ttl_jitter", "health_check_interval", "call_kill_timeout"}) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": -1"),
                          std::string("pools[0].") + key + ": must be >= 0 seconds"));
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": -0.0001"),
                          std::string("pools[0].") + key + ": must be >= 0 seconds"));
  }
  for (const char* key :
       {"memory_check_interval", "health_check_timeout", "restart_backoff_initial", "restart_backoff_max"}) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": 0"),
                          std::string("pools[0].") + key + ": must be > 0 seconds"));
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": -2"),
                          std::string("pools[0].") + key + ": must be > 0 seconds"));
  }
  for (const char* key :
       {"worker_ttl", "worker_ttl_jitter", "memory_check_interval", "health_check_interval", "health_check_timeout",
        "call_kill_timeout", "restart_backoff_initial", "restart_backoff_max"}) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": 31536000.001"),
                          std::string("pools[0].") + key + ": must be <= 31536000 seconds (365 days)"));
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + key + "\": \"1s\""),
                          std::string("pools[0].") + key + ": expected a number, got string"));
  }
}

// One out-of-range value of an integer lifecycle key and its message.
struct IntCase {
  const char* key;
  const char* value;
  const char* reason;
};

constexpr IntCase kLifecycleIntCases[] = {
    {"worker_max_requests", "-1", "must be >= 0"},
    {"worker_max_requests", "9007199254740993", "must be <= 9007199254740992"},
    {"worker_max_requests_jitter", "-1", "must be >= 0"},
    {"worker_max_requests_jitter", "9007199254740993", "must be <= 9007199254740992"},
    {"worker_max_memory_mb", "-1", "must be >= 0"},
    {"worker_max_memory_mb", "16777217", "must be <= 16777216"},
    {"health_check_failures", "0", "must be >= 1"},
    {"health_check_failures", "1001", "must be <= 1000"},
    {"max_surge", "-1", "must be >= 0"},
    {"max_surge", "1025", "must be <= 1024"},
    {"degraded_after_failures", "0", "must be >= 1"},
    {"degraded_after_failures", "1000001", "must be <= 1000000"},
};

TEST(ConfigJsonTest, LifecycleIntegerRanges) {
  for (const IntCase& c : kLifecycleIntCases) {
    EXPECT_TRUE(IsInvalid(PoolStatus(std::string("\"") + c.key + "\": " + c.value),
                          std::string("pools[0].") + c.key + ": " + c.reason));
  }
  // Values beyond int64 saturate and are reported by the range check.
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_max_requests": 1e30)"),
                        "pools[0].worker_max_requests: must be <= 9007199254740992"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("max_surge": 99999999999)"), "pools[0].max_surge: must be <= 1024"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_max_memory_mb": 1.5)"),
                        "pools[0].worker_max_memory_mb: expected an integer, got 1.5"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("health_check_failures": "3")"),
                        "pools[0].health_check_failures: expected an integer, got string"));
}

TEST(ConfigJsonTest, JitterWithoutBaseIsAnError) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_ttl_jitter": 60)"),
                        "pools[0].worker_ttl_jitter: has no effect without worker_ttl"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_ttl": 0, "worker_ttl_jitter": 0.001)"),
                        "pools[0].worker_ttl_jitter: has no effect without worker_ttl"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_max_requests_jitter": 10)"),
                        "pools[0].worker_max_requests_jitter: has no effect without worker_max_requests"));
  EXPECT_TRUE(PoolStatus(R"("worker_ttl": 600, "worker_ttl_jitter": 60)").ok());
  EXPECT_TRUE(PoolStatus(R"("worker_max_requests": 1, "worker_max_requests_jitter": 100)").ok());
  EXPECT_TRUE(PoolStatus(R"("worker_ttl_jitter": 0, "worker_max_requests_jitter": 0)").ok());
}

TEST(ConfigJsonTest, RestartBackoffMaxBelowInitial) {
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("restart_backoff_initial": 2, "restart_backoff_max": 1.5)"),
                        "pools[0].restart_backoff_max: must be >= restart_backoff_initial (2 seconds), got 1.5 "
                        "seconds"));
  // Against the default initial value of 0.1 s.
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("restart_backoff_max": 0.05)"),
                        "pools[0].restart_backoff_max: must be >= restart_backoff_initial (0.1 seconds), got 0.05 "
                        "seconds"));
  // Against the default max of 30 s.
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("restart_backoff_initial": 31)"),
                        "pools[0].restart_backoff_max: must be >= restart_backoff_initial (31 seconds), got 30 "
                        "seconds"));
  EXPECT_TRUE(PoolStatus(R"("restart_backoff_initial": 5, "restart_backoff_max": 5)").ok());
}

TEST(ConfigJsonTest, LegacyFormAcceptsLifecycleKeys) {
  Config config = MustLoad(
      R"({"pool_size": 2, "worker_ttl": 1.5, "worker_ttl_jitter": 0.5, "worker_max_requests": 100,
          "worker_max_requests_jitter": 10, "worker_max_memory_mb": 256, "memory_check_interval": 0.2,
          "health_check_interval": 3, "health_check_timeout": 1, "health_check_failures": 2,
          "call_kill_timeout": 4, "max_surge": 2, "restart_backoff_initial": 0.5, "restart_backoff_max": 8,
          "degraded_after_failures": 7, "socket_dir": "/run/sp"})");
  ASSERT_EQ(config.pools.size(), 1u);
  const PoolConfig& pool = config.pools[0];
  EXPECT_EQ(pool.name, "default");
  EXPECT_EQ(pool.worker_ttl, milliseconds(1'500));
  EXPECT_EQ(pool.worker_ttl_jitter, milliseconds(500));
  EXPECT_EQ(pool.worker_max_requests, 100);
  EXPECT_EQ(pool.worker_max_requests_jitter, 10);
  EXPECT_EQ(pool.worker_max_memory_mb, 256);
  EXPECT_EQ(pool.memory_check_interval, milliseconds(200));
  EXPECT_EQ(pool.health_check_interval, milliseconds(3'000));
  EXPECT_EQ(pool.health_check_timeout, milliseconds(1'000));
  EXPECT_EQ(pool.health_check_failures, 2);
  EXPECT_EQ(pool.call_kill_timeout, milliseconds(4'000));
  EXPECT_EQ(pool.max_surge, 2);
  EXPECT_EQ(pool.restart_backoff_initial, milliseconds(500));
  EXPECT_EQ(pool.restart_backoff_max, milliseconds(8'000));
  EXPECT_EQ(pool.degraded_after_failures, 7);
  EXPECT_EQ(config.socket_dir, "/run/sp");

  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"max_surge": 2000})"), "max_surge: must be <= 1024"));
  EXPECT_TRUE(
      IsInvalid(LoadStatus(R"({"worker_ttl_jitter": 1})"), "worker_ttl_jitter: has no effect without worker_ttl"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"restart_backoff_max": 0.01})"),
                        "restart_backoff_max: must be >= restart_backoff_initial (0.1 seconds), got 0.01 seconds"));
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"worker_tll": 1})"), "worker_tll: unknown key (did you mean \"worker_ttl\"?)"));
  // Beside "pools", lifecycle keys belong inside the entries too.
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"pools": [{"name": "a"}], "worker_ttl": 5})"),
                        "worker_ttl: pool keys go inside the entries of \"pools\" when \"pools\" is given"));
}

TEST(ConfigJsonTest, UnknownKeysSuggestLifecycleKeys) {
  EXPECT_TRUE(
      IsInvalid(PoolStatus(R"("max_surg": 1)"), "pools[0].max_surg: unknown key (did you mean \"max_surge\"?)"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("worker_max_request": 1)"),
                        "pools[0].worker_max_request: unknown key (did you mean \"worker_max_requests\"?)"));
  EXPECT_TRUE(IsInvalid(PoolStatus(R"("health_check_timout": 1)"),
                        "pools[0].health_check_timout: unknown key (did you mean \"health_check_timeout\"?)"));
}

TEST(ConfigJsonTest, SocketDir) {
  EXPECT_EQ(MustLoad(R"({"socket_dir": "/run/user/1000"})").socket_dir, "/run/user/1000");
  EXPECT_TRUE(IsInvalid(LoadStatus(R"({"socket_dir": "run"})"), "socket_dir: must be an absolute path, got \"run\""));
}

// --- JSON text ---------------------------------------------------------

TEST(ConfigJsonTextTest, ParseErrorsGivePosition) {
  absl::Status status = LoadStatus("{\n  \"pools\": [}\n");
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kInvalidArgument, "invalid JSON at byte 15"));
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kInvalidArgument, "line 2, column 13"));
  EXPECT_TRUE(FailsWith(LoadStatus(""), absl::StatusCode::kInvalidArgument, "invalid JSON"));
  EXPECT_TRUE(FailsWith(LoadStatus("{} extra"), absl::StatusCode::kInvalidArgument, "invalid JSON at byte"));
  EXPECT_TRUE(FailsWith(LoadStatus(R"({"pool_size": 1e999})"), absl::StatusCode::kInvalidArgument, "invalid JSON"));
}

TEST(ConfigJsonTextTest, InvalidUtf8IsAnErrorNotACrash) {
  absl::Status status = LoadStatus("{\"pools\": [{\"name\": \"a\xff\xfe\"}]}");
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kInvalidArgument, "invalid JSON at byte"));
  // Raw input bytes are escaped in the message.
  EXPECT_EQ(Str(status.message()).find('\xff'), std::string::npos) << status;
  EXPECT_TRUE(
      FailsWith(LoadStatus(std::string("{\"a\0\": 1}", 9)), absl::StatusCode::kInvalidArgument, "invalid JSON"));
}

TEST(ConfigJsonTextTest, DeepNestingIsRefused) {
  const std::string deep =
      "{\"pools\": [{\"name\": \"a\", \"preload\": " + std::string(100'000, '[') + std::string(100'000, ']') + "}]}";
  EXPECT_TRUE(IsInvalid(LoadStatus(deep), "invalid JSON: nested deeper than 128 levels"));

  // A document built in C++ is checked before it is copied.
  json preload = json::array();
  json* innermost = &preload;
  for (int i = 0; i < 200; ++i) {
    innermost->push_back(json::array());
    innermost = &innermost->back();
  }
  json document = {{"pools", json::array({{{"name", "a"}, {"preload", preload}}})}};
  EXPECT_TRUE(IsInvalid(Config::FromJson(document).status(), "pools[0].preload: nested deeper than 128 levels"));
}

TEST(ConfigJsonTextTest, OversizedTextIsRefused) {
  const std::string text(std::size_t{16 << 20} + 1, ' ');
  EXPECT_TRUE(IsInvalid(LoadStatus(text), "config is 16777217 bytes; the limit is 16 MiB"));
}

TEST(ConfigJsonTest, FromJsonRejectsValuesJsonTextCannotHold) {
  json document = {{"pools", json::array({{{"name", "a"}, {"call_timeout", NAN}}})}};
  EXPECT_TRUE(
      IsInvalid(Config::FromJson(document).status(), "pools[0].call_timeout: expected a number of seconds, got NaN"));
  json bad_utf8 = {{"pools", json::array({{{"name", "a"}, {"preload", {"\xff"}}}})}};
  EXPECT_TRUE(FailsWith(Config::FromJson(bad_utf8).status(), absl::StatusCode::kInvalidArgument,
                        "pools[0].preload: cannot be serialized"));
}

// --- Files ---------------------------------------------------------------

TEST(ConfigFileTest, MissingFileIsNotFound) {
  const std::string path = TempPath("does_not_exist.json");
  absl::Status status = Config::FromJsonFile(path).status();
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kNotFound, path));
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kNotFound, "No such file or directory"));
}

TEST(ConfigFileTest, DirectoryIsUnreadable) {
  EXPECT_TRUE(
      FailsWith(Config::FromJsonFile(::testing::TempDir()).status(), absl::StatusCode::kNotFound, "cannot read"));
}

TEST(ConfigFileTest, BadJsonNamesFileAndPosition) {
  const std::string path = WriteFile("bad.json", "{\n  \"pools\": [\n    {\"name\": }\n  ]\n}\n");
  absl::Status status = Config::FromJsonFile(path).status();
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kInvalidArgument, path + ": invalid JSON at byte"));
  EXPECT_TRUE(FailsWith(status, absl::StatusCode::kInvalidArgument, "line 3"));
  ::unlink(path.c_str());
}

TEST(ConfigFileTest, ValidationErrorsNameFile) {
  const std::string path = WriteFile("invalid.json", R"({"pools": [{"name": "a", "pool_size": 0}]})");
  EXPECT_TRUE(IsInvalid(Config::FromJsonFile(path).status(), path + ": pools[0].pool_size: must be >= 1"));
  ::unlink(path.c_str());
}

TEST(ConfigFileTest, HugeFileIsRefused) {
  const std::string path = WriteFile("huge.json", "");
  ASSERT_EQ(::truncate(path.c_str(), std::int64_t{17} << 20), 0);
  EXPECT_TRUE(IsInvalid(Config::FromJsonFile(path).status(), path + ": config is 17825792 bytes; the limit is 16 MiB"));
  ::unlink(path.c_str());
}

// The hybrid example of docs/configuration.md.
constexpr std::string_view kHybridExample = R"({
  "pools": [
    {"name": "default", "profile": "process", "pool_size": 4},
    {"name": "hpc", "profile": "thread", "pool_size": 2, "threads_per_worker": 4,
     "preload": ["matmul"], "call_timeout": 10}
  ]
})";

void ExpectHybrid(const Config& config) {
  ASSERT_EQ(config.pools.size(), 2u);
  const PoolConfig& first = config.pools[0];
  EXPECT_EQ(first.name, "default");
  EXPECT_EQ(first.profile, Profile::kProcess);
  EXPECT_EQ(first.effective_pool_size(), 4);
  EXPECT_EQ(first.effective_threads_per_worker(), 1);
  const PoolConfig& hpc = config.pools[1];
  EXPECT_EQ(hpc.name, "hpc");
  EXPECT_EQ(hpc.profile, Profile::kThread);
  EXPECT_EQ(hpc.effective_pool_size(), 2);
  EXPECT_EQ(hpc.effective_threads_per_worker(), 4);
  EXPECT_EQ(hpc.preload, json::array({"matmul"}));
  EXPECT_EQ(hpc.call_timeout, milliseconds(10'000));
  EXPECT_EQ(hpc.queue_timeout, milliseconds(5'000));
  EXPECT_EQ(config.socket_dir, "");
  EXPECT_TRUE(config.Validate().ok()) << config.Validate();
}

TEST(ConfigFileTest, HybridExampleRoundTrip) {
  Config from_string = MustLoad(kHybridExample);
  ExpectHybrid(from_string);
  const std::string path = WriteFile("hybrid.json", kHybridExample);
  absl::StatusOr<Config> from_file = Config::FromJsonFile(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  ExpectHybrid(*from_file);
  absl::StatusOr<Config> from_json = Config::FromJson(json::parse(kHybridExample));
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  ExpectHybrid(*from_json);
  ::unlink(path.c_str());
}

// --- Validate() on configs built in C++ ----------------------------------

Config OnePool(PoolConfig pool) {
  Config config;
  config.pools.push_back(std::move(pool));
  return config;
}

TEST(ConfigValidateTest, DefaultPoolIsValid) {
  EXPECT_TRUE(OnePool(PoolConfig{}).Validate().ok());
  EXPECT_TRUE(IsInvalid(Config{}.Validate(), "pools: must list at least one pool"));
}

TEST(ConfigValidateTest, DuplicateNames) {
  Config config;
  config.pools.resize(3);
  config.pools[1].name = "other";
  EXPECT_TRUE(IsInvalid(config.Validate(), "pools[2].name: duplicate pool name \"default\" (also pools[0])"));
}

TEST(ConfigValidateTest, ThreadsOnProcessProfile) {
  PoolConfig pool;
  pool.threads_per_worker = 4;
  EXPECT_TRUE(IsInvalid(OnePool(pool).Validate(),
                        "pools[0].threads_per_worker: the process profile runs one call per "
                        "worker; use profile \"thread\" for more"));
  pool.profile = Profile::kThread;
  EXPECT_TRUE(OnePool(pool).Validate().ok());
}

TEST(ConfigValidateTest, ZeroMeansDefaultButNegativeIsRejected) {
  PoolConfig pool;
  pool.pool_size = 0;
  pool.threads_per_worker = 0;
  EXPECT_TRUE(OnePool(pool).Validate().ok());
  pool.pool_size = -1;
  EXPECT_TRUE(IsInvalid(OnePool(pool).Validate(), "pools[0].pool_size: must be >= 1 (or 0 for the profile's default)"));
  pool.pool_size = 2000;
  EXPECT_TRUE(IsInvalid(OnePool(pool).Validate(), "pools[0].pool_size: must be <= 1024"));
}

TEST(ConfigValidateTest, EachRuleAppliesToCppConfigs) {
  auto check = [](void (*mutate)(PoolConfig&), std::string_view message) {
    PoolConfig pool;
    pool.profile = Profile::kThread;
    mutate(pool);
    Config config;
    config.pools.push_back(PoolConfig{});
    config.pools[0].name = "first";
    config.pools.push_back(pool);
    return IsInvalid(config.Validate(), message);
  };
  EXPECT_TRUE(check([](PoolConfig& p) { p.name = ""; }, "pools[1].name: must not be empty"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.name = "a/b"; },
                    "pools[1].name: \"a/b\" contains \"/\"; pool names may use only letters, "
                    "digits, '_', '.' and '-'"));
  EXPECT_TRUE(
      check([](PoolConfig& p) { p.profile = static_cast<Profile>(7); }, "pools[1].profile: unknown profile value 7"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.worker_transport = static_cast<WorkerTransport>(9); },
                    "pools[1].worker_transport: unknown worker transport value 9"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.start_method = static_cast<StartMethod>(5); },
                    "pools[1].start_method: unknown start method value 5"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.adapter = ""; },
                    "pools[1].adapter: must be \"module:Class\" with dotted Python identifiers "
                    "on both sides, got \"\""));
  EXPECT_TRUE(check([](PoolConfig& p) { p.python = std::string("py\0", 3); },
                    "pools[1].python: must not contain a NUL character"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.env["A=B"] = "1"; },
                    "pools[1].env: variable name \"A=B\" must not contain '=' or NUL"));
  EXPECT_TRUE(
      check([](PoolConfig& p) { p.preload = json::object(); }, "pools[1].preload: expected an array, got object"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.startup_batch_size = 0; }, "pools[1].startup_batch_size: must be >= 1"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.max_queue = -5; }, "pools[1].max_queue: must be >= 0"));
  EXPECT_TRUE(
      check([](PoolConfig& p) { p.call_timeout = milliseconds(0); }, "pools[1].call_timeout: must be > 0 seconds"));
  EXPECT_TRUE(
      check([](PoolConfig& p) { p.kill_grace = milliseconds(-1); }, "pools[1].kill_grace: must be >= 0 seconds"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.queue_timeout = std::chrono::hours(24 * 366); },
                    "pools[1].queue_timeout: must be <= 31536000 seconds (365 days)"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.max_message_bytes = 0; },
                    "pools[1].max_message_bytes: must be > 0 and <= 2047 MiB (2146435072 "
                    "bytes)"));
  EXPECT_TRUE(check([](PoolConfig& p) { p.python_path = {"/a:/b"}; },
                    "pools[1].python_path[0]: \"/a:/b\" contains ':', the PYTHONPATH "
                    "separator"));
  EXPECT_TRUE(check(
      [](PoolConfig& p) {
        p.profile = Profile::kProcess;
        p.fallback_to_process = true;
      },
      "pools[1].fallback_to_process: only applies to profile \"thread\""));
}

TEST(ConfigValidateTest, LifecycleDefaultsAreValid) {
  PoolConfig pool;
  ExpectLifecycleDefaults(pool);
  EXPECT_TRUE(OnePool(pool).Validate().ok());
}

// A second pool with one mutation; errors must name pools[1].
absl::Status ValidateSecond(void (*mutate)(PoolConfig&)) {
  Config config;
  config.pools.resize(2);
  config.pools[0].name = "first";
  mutate(config.pools[1]);
  return config.Validate();
}

TEST(ConfigValidateTest, LifecycleDurationRangesApplyToCppConfigs) {
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_ttl = milliseconds(-1); }),
                        "pools[1].worker_ttl: must be >= 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_ttl_jitter = milliseconds(-1); }),
                        "pools[1].worker_ttl_jitter: must be >= 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.health_check_interval = milliseconds(-1); }),
                        "pools[1].health_check_interval: must be >= 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.call_kill_timeout = milliseconds(-1); }),
                        "pools[1].call_kill_timeout: must be >= 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.memory_check_interval = milliseconds(0); }),
                        "pools[1].memory_check_interval: must be > 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.health_check_timeout = milliseconds(0); }),
                        "pools[1].health_check_timeout: must be > 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.restart_backoff_initial = milliseconds(0); }),
                        "pools[1].restart_backoff_initial: must be > 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.restart_backoff_max = milliseconds(-5); }),
                        "pools[1].restart_backoff_max: must be > 0 seconds"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_ttl = std::chrono::hours(24 * 366); }),
                        "pools[1].worker_ttl: must be <= 31536000 seconds (365 days)"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.call_kill_timeout = std::chrono::hours(24 * 366); }),
                        "pools[1].call_kill_timeout: must be <= 31536000 seconds (365 days)"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) {
                          p.restart_backoff_initial = std::chrono::hours(24 * 366);
                          p.restart_backoff_max = std::chrono::hours(24 * 367);
                        }),
                        "pools[1].restart_backoff_initial: must be <= 31536000 seconds (365 days)"));
  EXPECT_TRUE(ValidateSecond([](PoolConfig& p) {
                p.worker_ttl = milliseconds(0);
                p.health_check_interval = milliseconds(0);
                p.call_kill_timeout = milliseconds(0);
                p.max_surge = 0;
              }).ok());
}

TEST(ConfigValidateTest, LifecycleIntegerRangesApplyToCppConfigs) {
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_requests = -1; }),
                        "pools[1].worker_max_requests: must be >= 0"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_requests = (std::int64_t{1} << 53) + 1; }),
                        "pools[1].worker_max_requests: must be <= 9007199254740992"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_requests_jitter = -1; }),
                        "pools[1].worker_max_requests_jitter: must be >= 0"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) {
                          p.worker_max_requests = 1;
                          p.worker_max_requests_jitter = (std::int64_t{1} << 53) + 1;
                        }),
                        "pools[1].worker_max_requests_jitter: must be <= 9007199254740992"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_memory_mb = -1; }),
                        "pools[1].worker_max_memory_mb: must be >= 0"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_memory_mb = 16777217; }),
                        "pools[1].worker_max_memory_mb: must be <= 16777216"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.health_check_failures = 0; }),
                        "pools[1].health_check_failures: must be >= 1"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.health_check_failures = 1001; }),
                        "pools[1].health_check_failures: must be <= 1000"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.max_surge = -1; }), "pools[1].max_surge: must be >= 0"));
  EXPECT_TRUE(
      IsInvalid(ValidateSecond([](PoolConfig& p) { p.max_surge = 1025; }), "pools[1].max_surge: must be <= 1024"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.degraded_after_failures = 0; }),
                        "pools[1].degraded_after_failures: must be >= 1"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.degraded_after_failures = 1'000'001; }),
                        "pools[1].degraded_after_failures: must be <= 1000000"));
}

TEST(ConfigValidateTest, JitterWithoutBaseIsAnError) {
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_ttl_jitter = milliseconds(1); }),
                        "pools[1].worker_ttl_jitter: has no effect without worker_ttl"));
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) { p.worker_max_requests_jitter = 5; }),
                        "pools[1].worker_max_requests_jitter: has no effect without worker_max_requests"));
  EXPECT_TRUE(ValidateSecond([](PoolConfig& p) {
                p.worker_ttl = std::chrono::minutes(10);
                p.worker_ttl_jitter = std::chrono::minutes(1);
                p.worker_max_requests = 1000;
                p.worker_max_requests_jitter = 100;
              }).ok());
}

TEST(ConfigValidateTest, RestartBackoffMaxBelowInitial) {
  EXPECT_TRUE(IsInvalid(ValidateSecond([](PoolConfig& p) {
                          p.restart_backoff_initial = milliseconds(1'250);
                          p.restart_backoff_max = milliseconds(1'001);
                        }),
                        "pools[1].restart_backoff_max: must be >= restart_backoff_initial (1.25 seconds), got "
                        "1.001 seconds"));
  EXPECT_TRUE(ValidateSecond([](PoolConfig& p) {
                p.restart_backoff_initial = milliseconds(7);
                p.restart_backoff_max = milliseconds(7);
              }).ok());
}

TEST(ConfigValidateTest, PreloadThatCannotBeSerialized) {
  PoolConfig pool;
  pool.preload = json::array({std::string("\xc3\x28")});  // invalid UTF-8
  EXPECT_TRUE(FailsWith(OnePool(pool).Validate(), absl::StatusCode::kInvalidArgument,
                        "pools[0].preload: cannot be serialized"));
}

TEST(ConfigValidateTest, SocketDir) {
  Config config = OnePool(PoolConfig{});
  config.socket_dir = "relative/dir";
  EXPECT_TRUE(IsInvalid(config.Validate(), "socket_dir: must be an absolute path, got \"relative/dir\""));
  config.socket_dir = "/tmp";
  EXPECT_TRUE(config.Validate().ok());
}

}  // namespace
}  // namespace snakepit
