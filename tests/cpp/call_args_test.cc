// What a call's command name and args must be, checked at the API entry
// before anything is sent, against one real worker: a refused call names
// what is wrong, and the pool goes on serving.
#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include <limits>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "snakepit/logging.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;

class CallArgsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pools_ = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}})).release();
  }
  static void TearDownTestSuite() {
    delete pools_;
    pools_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(pools_, nullptr); }
  // The pool still answers.
  void ExpectPoolServes() {
    absl::StatusOr<nlohmann::json> r = pools_->execute("p", "echo", {{"x", 1}});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)["x"], 1);
  }
  static PoolManager* pools_;
};
PoolManager* CallArgsTest::pools_ = nullptr;

TEST_F(CallArgsTest, InvalidUtf8CommandNameIsInvalidArgumentBeforeSending) {
  absl::StatusOr<nlohmann::json> r = pools_->execute("p", std::string("ech\xff"), nlohmann::json::object());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("pool 'p': the command name \"ech\\ufffd\" is not valid UTF-8"));
  ExpectPoolServes();
}

// `depth` nested arrays, [[[...]]], built without recursion.
nlohmann::json NestedArrays(std::size_t depth) {
  nlohmann::json root = nlohmann::json::array();
  nlohmann::json* innermost = &root;
  for (std::size_t i = 1; i < depth; ++i) {
    innermost->push_back(nlohmann::json::array());
    innermost = &innermost->back();
  }
  return root;
}

TEST_F(CallArgsTest, ArgsOfAnyDepthAreRefusedPastTheLimitWithoutACrash) {
  // 100,000 deep crashed the host with SIGSEGV in nlohmann's dump().
  // (nlohmann 3.11 destroys values iteratively: `deep` itself is safe.)
  const nlohmann::json deep = NestedArrays(100'000);
  absl::StatusOr<nlohmann::json> r = pools_->execute("p", "echo", {{"x", deep}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("pool 'p': command 'echo': args are nested deeper than 256 levels (at args.x[0][0]"));
  ExpectPoolServes();
}

TEST_F(CallArgsTest, TheDepthLimitIs256OnBothSides) {
  // {"x": <255 arrays>} is 256 levels: the host sends it, the worker takes it.
  absl::StatusOr<nlohmann::json> r = pools_->execute("p", "echo", {{"x", NestedArrays(255)}});
  ASSERT_TRUE(r.ok()) << r.status();
  r = pools_->execute("p", "echo", {{"x", NestedArrays(256)}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("nested deeper than 256 levels"));
}

TEST_F(CallArgsTest, NonFiniteNumbersInArgsAreRefusedWithTheirPath) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    nlohmann::json args;
    std::string message;
  } cases[] = {
      {{{"x", {0, 1, 2, nan}}}, "args.x[3] is NaN; JSON cannot carry it"},
      {{{"a", {{"b c", inf}}}}, "args.a[\"b c\"] is Infinity; JSON cannot carry it"},
      {nlohmann::json::array({1, -inf}), "args[1] is -Infinity; JSON cannot carry it"},
      {nan, "args is NaN; JSON cannot carry it"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<nlohmann::json> r = pools_->execute("p", "echo", c.args);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("pool 'p': command 'echo': " + c.message));
  }
  ExpectPoolServes();
}

TEST(NonFinite, ResultsWithNaNAreRefusedWithTheirPathToo) {
  auto pools = testing::StartOrDie(
      testing::MakeConfig({{{"name", "n"}, {"pool_size", 1}, {"adapter", "non_finite:NonFiniteAdapter"}}}));
  ASSERT_NE(pools, nullptr);
  absl::StatusOr<nlohmann::json> r = pools->execute("n", "nan_result");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal) << r.status();
  EXPECT_THAT(
      r.status().message(),
      HasSubstr("command 'nan_result' returned a value that cannot be sent: result.a[1] is NaN; JSON cannot carry it"));
  r = pools->execute("n", "inf_result");
  EXPECT_THAT(r.status().message(), HasSubstr("result[0] is -Infinity; JSON cannot carry it"));
}

TEST(ForeignLogs, ProtobufAndGrpcLinesGoThroughTheLibrarysLogger) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto captured = std::make_shared<spdlog::logger>("capture", sink);
  captured->set_level(spdlog::level::debug);
  std::shared_ptr<spdlog::logger> previous = logger();
  set_logger(captured);
  grpc_init();  // as the library's channels do: gRPC logs once initialised
  GOOGLE_LOG(WARNING) << "a protobuf line for the test";
  gpr_log(GPR_ERROR, "a grpc line for the test");
  grpc_shutdown();
  set_logger(previous);
  std::string all;
  for (const std::string& line : sink->last_formatted()) all += line;
  EXPECT_THAT(all, HasSubstr("protobuf: a protobuf line for the test"));
  EXPECT_THAT(all, HasSubstr("grpc: a grpc line for the test"));
}

}  // namespace
}  // namespace snakepit
