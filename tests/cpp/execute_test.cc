// execute() on both profiles against real Python workers: results, errors
// with their canonical codes, and data round trips.
#include <cstdlib>
#include <fstream>
#include <string>

#include "attachment_facts.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;

class ExecuteTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    pools_ = testing::StartOrDie(
                 testing::MakeConfig({
                     testing::WithFixtureAdapter({{"name", "proc"}, {"profile", "process"}, {"pool_size", 2}}),
                     testing::WithFixtureAdapter(
                         {{"name", "thr"}, {"profile", "thread"}, {"pool_size", 1}, {"threads_per_worker", 4}}),
                 }))
                 .release();
  }
  static void TearDownTestSuite() {
    delete pools_;
    pools_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(pools_, nullptr); }
  const std::string& pool() const { return GetParam(); }

  static PoolManager* pools_;
};
PoolManager* ExecuteTest::pools_ = nullptr;

TEST_P(ExecuteTest, AddReturnsTheSum) {
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "add", {{"a", 2}, {"b", 40}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 42);
}

TEST_P(ExecuteTest, NestedUnicodeArgsRoundTrip) {
  const nlohmann::json args = {
      {"text", "snake \xF0\x9F\x90\x8D, \xE6\x97\xA5\xE6\x9C\xAC, \xC3\xA9t\xC3\xA9"},
      {"nested", {{"list", {1, 2.5, nullptr, true, "x"}}, {"empty", nlohmann::json::object()}}},
      {"big", 9007199254740991LL},
      {"neg", -3.25}};
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "echo", args);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, args);
}

TEST_P(ExecuteTest, LargeArrayRoundTrips) {
  nlohmann::json values = nlohmann::json::array();
  for (int i = 0; i < 200'000; ++i) values.push_back(i * 3);
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "echo", {{"values", values}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["values"], values);
}

TEST_P(ExecuteTest, BinaryAttachmentsRoundTrip) {
  std::string blob(1 << 20, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>(i * 7 % 256);
  CallOptions options;
  options.attachments = {blob, std::string("\0\x01\xff", 3), ""};
  absl::StatusOr<Reply> r = pools_->call(pool(), "echo_attachments", nlohmann::json::object(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->result["count"], 3);
  ASSERT_EQ(r->attachments.size(), 3u);
  EXPECT_EQ(r->attachments[0], blob);
  EXPECT_EQ(r->attachments[1], std::string("\0\x01\xff", 3));
  EXPECT_EQ(r->attachments[2], "");
}

// The command reads the attachments in place: memoryviews over buffers
// that own what the transport received (moved there, not copied into
// bytes, on shm and native), read-only, that numpy.frombuffer reads
// without a copy; and current_call().attachments the same bytes.
TEST_P(ExecuteTest, CommandsSeeAttachmentsInPlace) {
  CallOptions options;
  options.attachments = testing::InPlaceAttachments();
  const std::vector<std::string> sent = options.attachments;
  absl::StatusOr<nlohmann::json> facts =
      pools_->execute(pool(), "attachment_facts", nlohmann::json::object(), std::move(options));
  ASSERT_TRUE(facts.ok()) << facts.status();
  testing::ExpectSeenInPlace(*facts, sent);
}

// A view the command keeps stays valid after its call ended: it owns (a
// reference to) the bytes, which outlive the request they came in. One
// worker, so the later calls find the view the first one kept.
TEST(ExecuteLifetime, AttachmentViewsOutliveTheirCall) {
  auto pools =
      testing::StartOrDie(testing::MakeConfig({testing::WithFixtureAdapter({{"name", "p"}, {"pool_size", 1}})}));
  ASSERT_NE(pools, nullptr);
  const std::string big = testing::InPlaceAttachments().back();
  CallOptions options;
  options.attachments = {big};
  ASSERT_TRUE(pools->execute("p", "keep_attachment_view", {{"key", "k"}}, std::move(options)).ok());
  // Another call with a large attachment in between, whose buffer may reuse
  // freed memory.
  CallOptions other;
  other.attachments = {std::string(big.size(), 'x')};
  ASSERT_TRUE(pools->execute("p", "attachment_facts", nlohmann::json::object(), std::move(other)).ok());
  absl::StatusOr<nlohmann::json> facts = pools->execute("p", "kept_view_facts", {{"key", "k"}});
  ASSERT_TRUE(facts.ok()) << facts.status();
  testing::ExpectViewInPlace(*facts, big);
}

TEST_P(ExecuteTest, UnknownCommandIsNotFoundAndNamesIt) {
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "no_such_command");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("no_such_command"));
}

TEST_P(ExecuteTest, PythonExceptionCarriesTypeMessageAndTraceback) {
  absl::StatusOr<nlohmann::json> r =
      pools_->execute(pool(), "raise_error", {{"type", "KeyError"}, {"message", "missing thing"}});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnknown) << r.status();
  std::optional<PythonError> error = GetPythonError(r.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "KeyError");
  EXPECT_THAT(error->message, HasSubstr("missing thing"));
  EXPECT_THAT(error->traceback, HasSubstr("Traceback (most recent call last)"));
  EXPECT_THAT(error->traceback, HasSubstr("showcase.py"));
  EXPECT_THAT(r.status().message(), HasSubstr("KeyError"));
  EXPECT_THAT(r.status().message(), HasSubstr("raise_error"));
  // The worker keeps serving after an adapter exception.
  EXPECT_EQ(*pools_->execute(pool(), "add", {{"a", 1}, {"b", 1}}), 2);
}

// The message format include/snakepit/call.h documents for PythonError:
// "<pool>-<worker id>: command '<command>': <type>: <message>\n<traceback>".
TEST_P(ExecuteTest, PythonErrorStatusMessageIsTheDocumentedOne) {
  absl::StatusOr<nlohmann::json> r =
      pools_->execute(pool(), "raise_error", {{"type", "ValueError"}, {"message", "bad input"}});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnknown) << r.status();
  const std::string message(r.status().message());
  const std::size_t newline = message.find('\n');
  ASSERT_NE(newline, std::string::npos) << message;
  EXPECT_THAT(message.substr(0, newline),
              ::testing::MatchesRegex(pool() + "-[0-9]+: command 'raise_error': ValueError: bad input"));
  std::optional<PythonError> error = GetPythonError(r.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(message.substr(newline + 1), error->traceback);
  EXPECT_THAT(error->traceback, ::testing::StartsWith("Traceback (most recent call last):"));
}

TEST_P(ExecuteTest, BadArgumentsAreInvalidArgument) {
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "add", {{"a", 1}, {"c", 2}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("add"));
}

TEST_P(ExecuteTest, InvalidUtf8ArgsAreRejectedBeforeSending) {
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "echo", {{"s", std::string("bad \xff\xfe")}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("UTF-8"));
}

TEST_P(ExecuteTest, UnserialisableResultIsInternalAndNamesTheType) {
  absl::StatusOr<nlohmann::json> r = pools_->execute(pool(), "not_serializable");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("set"));
}

TEST_P(ExecuteTest, AsyncFormsDeliverTheResult) {
  std::future<absl::StatusOr<nlohmann::json>> f = pools_->execute_async(pool(), "add", {{"a", 5}, {"b", 6}});
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(*f.get(), 11);

  std::promise<absl::StatusOr<Reply>> got;
  pools_->execute_async(pool(), "ping", nlohmann::json::object(), {},
                        [&got](absl::StatusOr<Reply> r) { got.set_value(std::move(r)); });
  auto reply_future = got.get_future();
  ASSERT_EQ(reply_future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  absl::StatusOr<Reply> reply = reply_future.get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->result["pong"], true);
}

TEST_P(ExecuteTest, StatsCountRequestsAndErrors) {
  const PoolStats before = *pools_->stats(pool());
  ASSERT_TRUE(pools_->execute(pool(), "ping").ok());
  ASSERT_FALSE(pools_->execute(pool(), "raise_error").ok());
  const PoolStats after = *pools_->stats(pool());
  EXPECT_EQ(after.requests, before.requests + 2);
  EXPECT_EQ(after.errors, before.errors + 1);
  EXPECT_EQ(after.in_flight, 0);
}

// The suites re-run per transport through $SNAKEPIT_TEST_WORKER_TRANSPORT;
// if that setting were lost on the way (ctest once dropped all but the first
// variable of a test's ENVIRONMENT), every re-run would silently test the
// default transport. The shared objects mapped into the worker show which
// transport really serves it.
TEST_P(ExecuteTest, WorkersRunTheTransportTheTestsAskFor) {
  const char* wanted = std::getenv("SNAKEPIT_TEST_WORKER_TRANSPORT");
  // Unset is a failure, not a skip: a lost setting is what this looks for.
  ASSERT_TRUE(wanted != nullptr &&
              (std::string(wanted) == "shm" || std::string(wanted) == "native" || std::string(wanted) == "grpcio"))
      << "SNAKEPIT_TEST_WORKER_TRANSPORT must be shm, native or grpcio, as ctest sets it";
  const std::vector<int> pids = testing::WorkerPids(*pools_, pool());
  ASSERT_FALSE(pids.empty());
  std::ifstream maps("/proc/" + std::to_string(pids.front()) + "/maps");
  ASSERT_TRUE(maps) << "cannot read the maps of worker " << pids.front();
  bool native = false, grpcio = false, shm = false;
  for (std::string line; std::getline(maps, line);) {
    native = native || line.find("snakepit_worker/_native.") != std::string::npos;
    grpcio = grpcio || line.find("cygrpc.") != std::string::npos;
    shm = shm || line.find("/memfd:snakepit-") != std::string::npos;
  }
  EXPECT_EQ(native, std::string(wanted) != "grpcio") << "worker " << pids.front();
  EXPECT_EQ(grpcio, std::string(wanted) == "grpcio") << "worker " << pids.front();
  EXPECT_EQ(shm, std::string(wanted) == "shm") << "worker " << pids.front();
  // And the pool says so (stats, inspect, Prometheus: WorkerStats::transport).
  absl::StatusOr<PoolStats> stats = pools_->stats(pool());
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_FALSE(stats->per_worker.empty());
  EXPECT_EQ(stats->per_worker.front().transport, wanted);
}

INSTANTIATE_TEST_SUITE_P(BothProfiles, ExecuteTest, ::testing::Values("proc", "thr"));

TEST(ExecuteUnknownPool, IsNotFoundAndListsThePools) {
  std::unique_ptr<PoolManager> pools =
      testing::StartOrDie(testing::MakeConfig({{{"name", "alpha"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("beta", "ping");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("'beta'"));
  EXPECT_THAT(r.status().message(), HasSubstr("alpha"));
  EXPECT_EQ(pools->stats("beta").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(pools->list_pools(), std::vector<std::string>{"alpha"});
}

// A pool without an "adapter" key loads the default adapter, which users
// get without asking: it must not let a caller crash the worker, read its
// environment or hold its memory. Those commands are the test adapter's
// (testing::WithFixtureAdapter).
TEST(DefaultAdapter, HasNoTestOnlyCommands) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  for (const char* command : {"exit", "segfault", "getenv", "pid", "allocate", "release", "rlimits", "big_reply",
                              "not_serializable", "print_noise", "preloaded", "call_info"}) {
    EXPECT_EQ(pools->execute("p", command).status().code(), absl::StatusCode::kNotFound) << command;
  }
  EXPECT_TRUE(pools->execute("p", "ping").ok());
}

TEST(ExecuteAfterShutdown, IsUnavailable) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  pools->shutdown();
  EXPECT_EQ(pools->execute("p", "ping").status().code(), absl::StatusCode::kUnavailable);
  pools->shutdown();  // idempotent
}

}  // namespace
}  // namespace snakepit
