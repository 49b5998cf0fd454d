// CallOptions::metadata end to end: it reaches the adapter as
// current_call().metadata on both profiles, a traceparent's trace id tags
// the call's request_executed event, and bad metadata is refused at the
// API with INVALID_ARGUMENT before anything reaches a worker.
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

class CallMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pools_ = testing::StartOrDie(
        testing::MakeConfig({testing::WithFixtureAdapter({{"name", "proc"}, {"pool_size", 1}}),
                             testing::WithFixtureAdapter({{"name", "thr"}, {"profile", "thread"}, {"pool_size", 1}})}),
        log_.Handler());
    ASSERT_NE(pools_, nullptr);
  }

  absl::Status Refusal(std::map<std::string, std::string> metadata) {
    return pools_->execute("proc", "call_info", nlohmann::json::object(), {.metadata = std::move(metadata)}).status();
  }

  testing::EventLog log_;
  std::unique_ptr<PoolManager> pools_;
};

TEST_F(CallMetadataTest, ReachesTheAdapterOnBothProfiles) {
  const std::map<std::string, std::string> metadata = {
      {"traceparent", kTraceparent}, {"tracestate", "congo=t61rcWkgMzE"}, {"x-request-id", "r-17"}};
  for (const char* pool : {"proc", "thr"}) {
    absl::StatusOr<nlohmann::json> info =
        pools_->execute(pool, "call_info", nlohmann::json::object(), {.metadata = metadata});
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->at("metadata"), nlohmann::json(metadata)) << pool;
  }
  absl::StatusOr<nlohmann::json> none = pools_->execute("proc", "call_info");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->at("metadata"), nlohmann::json::object());
}

TEST_F(CallMetadataTest, TheTraceIdTagsTheRequestExecutedEvent) {
  ASSERT_TRUE(
      pools_->execute("proc", "ping", nlohmann::json::object(), {.metadata = {{"traceparent", kTraceparent}}}).ok());
  ASSERT_TRUE(pools_->execute("proc", "ping").ok());
  ASSERT_TRUE(log_.WaitFor(EventType::kRequestExecuted, "", 2, 10s));
  const std::vector<Event> events = log_.Of(EventType::kRequestExecuted);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].trace_id, kTraceId);
  EXPECT_EQ(events[0].ToJson()["trace_id"], kTraceId);
  EXPECT_EQ(events[1].trace_id, "");
  EXPECT_FALSE(events[1].ToJson().contains("trace_id"));
}

TEST_F(CallMetadataTest, BadMetadataIsRefusedNamingTheKey) {
  const struct {
    std::map<std::string, std::string> metadata;
    const char* message;
  } cases[] = {
      {{{"Trace-Parent", "x"}}, "call metadata \"Trace-Parent\": keys are lower-case HTTP header names"},
      {{{"a b", "x"}}, "call metadata \"a b\": keys are lower-case HTTP header names"},
      {{{"", "x"}}, "call metadata: a key is empty"},
      {{{"k", "line\nbreak"}}, "call metadata \"k\": values are printable ASCII"},
      {{{"k", std::string(4097, 'v')}}, "call metadata \"k\": value of 4097 bytes; the limit is 4096"},
      {{{"traceparent", "00-abc-def-01"}}, "call metadata \"traceparent\": \"00-abc-def-01\" is not a W3C traceparent"},
      {{{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}}, "is not a W3C traceparent"},
  };
  for (const auto& c : cases) {
    absl::Status status = Refusal(c.metadata);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
    EXPECT_THAT(std::string(status.message()), HasSubstr("pool 'proc': command 'call_info': "));
  }
  std::map<std::string, std::string> many;
  for (int i = 0; i < 65; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_THAT(std::string(Refusal(many).message()), HasSubstr("call metadata: 65 entries; the limit is 64"));
  std::map<std::string, std::string> big;
  for (int i = 0; i < 5; ++i) big["k" + std::to_string(i)] = std::string(4000, 'v');
  EXPECT_THAT(std::string(Refusal(big).message()), HasSubstr("bytes of keys and values; the limit is 16384"));
  // Nothing reached a worker.
  const PoolStats stats = *pools_->stats("proc");
  EXPECT_EQ(stats.requests, 0u);
}

}  // namespace
}  // namespace snakepit
