// The PoolManager's metrics endpoint (Config::metrics) with real workers:
// scraped over HTTP and read by prometheus_client's parser, refused on a
// network address or a port in use, closed by shutdown(), and read by
// `snakepit inspect --url`.
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_support.h"

namespace snakepit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Config WithMetrics(const std::string& listen) {
  Config config = testing::MakeConfig(
      {{{"name", "p"}, {"pool_size", 2}}, {{"name", "t"}, {"profile", "thread"}, {"pool_size", 1}}});
  config.metrics = MetricsConfig{.listen = listen};
  return config;
}

// Fetches `url` with Python's urllib and runs prometheus_client's parser
// over the body: "type name{k=v,...} value" lines, sorted, and the
// Content-Type on the first line; or "fetch failed: ...".
std::string Scrape(const std::string& url) {
  const std::string script =
      "import sys, urllib.request\n"
      "from prometheus_client.parser import text_string_to_metric_families as parse\n"
      "try:\n"
      "    r = urllib.request.urlopen(sys.argv[1], timeout=20)\n"
      "except OSError as e:\n"
      "    print(f'fetch failed: {e}')\n"
      "    sys.exit(1)\n"
      "out = []\n"
      "for fam in parse(r.read().decode()):\n"
      "    for s in fam.samples:\n"
      "        labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n"
      "        out.append(f'{fam.type} {s.name}{{{labels}}} {s.value:g}')\n"
      "print(r.headers['Content-Type'])\n"
      "print('\\n'.join(sorted(out)))\n";
  return testing::RunCommand(std::string(SNAKEPIT_TEST_PYTHON) + " - '" + url + "' <<'EOF'\n" + script + "EOF\n")
      .second;
}

TEST(MetricsEndpoint, APrometheusScrapeShowsEveryPoolWithoutPidLabels) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(WithMetrics("127.0.0.1:0"));
  ASSERT_NE(pools, nullptr);
  const std::string url = pools->metrics_url();
  ASSERT_THAT(url, StartsWith("http://127.0.0.1:"));
  ASSERT_THAT(url, ::testing::EndsWith("/metrics"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pools->execute("p", "ping").ok());
  ASSERT_TRUE(pools->execute("t", "ping").ok());

  const std::string parsed = Scrape(url);
  EXPECT_THAT(parsed, StartsWith("text/plain; version=0.0.4")) << parsed;
  for (const char* expected : {
           "counter snakepit_requests_total{pool=p} 3",
           "counter snakepit_requests_total{pool=t} 1",
           "gauge snakepit_pool_capacity{pool=p} 2",
           "gauge snakepit_pool_info{pool=t,profile=thread} 1",
           "histogram snakepit_call_duration_seconds_count{pool=p} 3",
           "gauge snakepit_worker_in_flight{pool=p,worker=0} 0",
           "gauge snakepit_worker_in_flight{pool=p,worker=1} 0",
           "counter snakepit_worker_requests_total{pool=t,worker=0} 1",
       }) {
    EXPECT_THAT(parsed, HasSubstr(expected)) << parsed;
  }
  EXPECT_THAT(parsed, Not(HasSubstr("pid="))) << "a pid label starts a new series at every restart";

  // The figures are live: a later scrape sees a later call.
  ASSERT_TRUE(pools->execute("p", "ping").ok());
  EXPECT_THAT(Scrape(url), HasSubstr("counter snakepit_requests_total{pool=p} 4"));
}

TEST(MetricsEndpoint, ShutdownClosesIt) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(WithMetrics("127.0.0.1:0"));
  ASSERT_NE(pools, nullptr);
  const std::string url = pools->metrics_url();
  ASSERT_THAT(Scrape(url), HasSubstr("snakepit_pool_workers"));
  pools->shutdown();
  EXPECT_THAT(Scrape(url), HasSubstr("fetch failed")) << "still served after shutdown()";
  EXPECT_EQ(pools->metrics_url(), url) << "the URL stays readable after shutdown";
}

TEST(MetricsEndpoint, NoConfigNoEndpoint) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(testing::MakeConfig({{{"name", "p"}, {"pool_size", 1}}}));
  ASSERT_NE(pools, nullptr);
  EXPECT_EQ(pools->metrics_url(), "");
}

TEST(MetricsEndpoint, ANetworkAddressIsRefusedUnlessAllowed) {
  absl::StatusOr<std::unique_ptr<PoolManager>> refused = PoolManager::Start(WithMetrics("0.0.0.0:0"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("metrics.listen: \"0.0.0.0:0\" is not a loopback address"));
}

TEST(MetricsEndpoint, APortInUseFailsTheStartWithAClearError) {
  std::unique_ptr<PoolManager> first = testing::StartOrDie(WithMetrics("127.0.0.1:0"));
  ASSERT_NE(first, nullptr);
  const std::string url = first->metrics_url();
  const std::string port =
      url.substr(std::string("http://127.0.0.1:").size(), url.size() - std::string("http://127.0.0.1:").size() - 8);
  absl::StatusOr<std::unique_ptr<PoolManager>> second = PoolManager::Start(WithMetrics("127.0.0.1:" + port));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("metrics.listen: cannot listen on \"127.0.0.1:" + port + "\""));
  // The first is unharmed.
  EXPECT_THAT(Scrape(url), HasSubstr("snakepit_pool_workers"));
}

TEST(MetricsEndpoint, InspectUrlReadsARunningApplicationsPools) {
  std::unique_ptr<PoolManager> pools = testing::StartOrDie(WithMetrics("127.0.0.1:0"));
  ASSERT_NE(pools, nullptr);
  ASSERT_TRUE(pools->execute("p", "ping").ok());
  const std::string url = pools->metrics_url();
  const std::string cli = std::string(SNAKEPIT_CLI) + " inspect --url ";

  const auto [text_status, text] = testing::RunCommand(cli + url);
  EXPECT_EQ(text_status, 0) << text;
  EXPECT_THAT(text, HasSubstr("pool p  process profile  2 workers")) << text;
  EXPECT_THAT(text, HasSubstr("pool t  thread profile")) << text;

  const auto [json_status, json_text] = testing::RunCommand(cli + url + " --json --count 2 --interval 0.1");
  ASSERT_EQ(json_status, 0) << json_text;
  const std::string first_line = json_text.substr(0, json_text.find('\n'));
  const nlohmann::json report = nlohmann::json::parse(first_line, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << json_text;
  EXPECT_EQ(report["pools"][0]["name"], "p");
  EXPECT_EQ(report["pools"][0]["requests"], 1);

  const auto [prom_status, prom] = testing::RunCommand(cli + url + " --prometheus");
  EXPECT_EQ(prom_status, 0) << prom;
  EXPECT_THAT(prom, HasSubstr("snakepit_requests_total{pool=\"p\"} 1")) << prom;

  pools->shutdown();
  const auto [gone_status, gone] = testing::RunCommand(cli + url);
  EXPECT_EQ(gone_status, 1) << gone;
  EXPECT_THAT(gone, HasSubstr("snakepit inspect: " + url.substr(0, url.size() - 8) + "/inspect: no answer")) << gone;
}

TEST(MetricsEndpoint, InspectWatchOnItsOwnPoolsSaysSo) {
  const std::string config = ::testing::TempDir() + "/snakepit_watch_" + std::to_string(::getpid()) + ".json";
  { std::ofstream(config) << R"({"pools": [{"name": "solo", "pool_size": 1}]})"; }
  const auto [status, out] =
      testing::RunCommand(std::string(SNAKEPIT_CLI) + " inspect --config " + config + " --watch --count 1");
  ::unlink(config.c_str());
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, HasSubstr("snakepit inspect: watching the pools this command started, which take no calls but its "
                             "own (idle); --url http://HOST:PORT reads a running application's pools"))
      << out;
}

}  // namespace
}  // namespace snakepit
