#include "load/load_activity.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace chaosplus::load {
namespace {

using namespace std::chrono_literals;

LoadThreshold threshold(const std::string& metric, CompareOp op, double value, const std::string& text) {
  return LoadThreshold{metric, Comparison{op, value}, text, {}};
}

Report report_with_latencies_us(std::initializer_list<std::uint64_t> values, std::uint64_t errors = 0) {
  Report r;
  for (auto v : values) r.latency.record(v);
  r.counters.requests = values.size();
  r.counters.status[200] = values.size() - errors;
  r.counters.status[503] = errors;
  r.elapsed_s = 2;
  return r;
}

TEST(JudgeThresholds, LatencyPercentilesComeFromTheCorrectedHistogram) {
  LoadSpec l;
  l.thresholds = {threshold("p99", CompareOp::less, 0.250, "p99 < 250ms"),
                  threshold("p50", CompareOp::less, 0.010, "p50 < 10ms")};
  std::vector<std::uint64_t> values(100, 5'000);
  values.back() = 400'000;  // one slow response in a hundred: p99 is still fast, max is not
  Report r;
  for (auto v : values) r.latency.record(v);
  l.name = "checkout";
  auto results = judge_thresholds(l, r);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].metric, "load.checkout.latency_p99");  // named as on the stream
  EXPECT_EQ(results[0].threshold, "p99 < 250ms");
  EXPECT_TRUE(results[0].held) << results[0].message;
  EXPECT_TRUE(results[1].held) << results[1].message;
  l.thresholds = {threshold("max", CompareOp::less, 0.250, "max < 250ms")};
  results = judge_thresholds(l, r);
  EXPECT_FALSE(results[0].held) << results[0].message;
  EXPECT_NEAR(results[0].measured, 0.4, 0.001);
}

TEST(JudgeThresholds, ErrorRateAndThroughput) {
  LoadSpec l;
  l.thresholds = {threshold("error_rate", CompareOp::less, 0.01, "error_rate < 1%"),
                  threshold("rps", CompareOp::greater, 1, "rps > 1")};
  auto results = judge_thresholds(l, report_with_latencies_us({1000, 1000, 1000, 1000}, 1));
  EXPECT_FALSE(results[0].held) << results[0].message;  // 1 of 4 failed
  EXPECT_DOUBLE_EQ(results[0].measured, 0.25);
  EXPECT_TRUE(results[1].held) << results[1].message;  // 4 requests in 2 s
}

TEST(JudgeThresholds, LatencyThresholdsFailWhenNothingWasAnswered) {
  LoadSpec l;
  l.thresholds = {threshold("p99", CompareOp::less, 0.250, "p99 < 250ms")};
  Report nothing;
  auto results = judge_thresholds(l, nothing);
  EXPECT_FALSE(results[0].held);
  EXPECT_NE(results[0].message.find("no response"), std::string::npos) << results[0].message;
}

TEST(ToLoadOptions, CarriesTheModelAndLastsThePhase) {
  LoadSpec l;
  l.name = "shoppers";
  l.url = "http://127.0.0.1:8080/";
  l.rate_stages = {{10s, 100}, {5s, 100}};
  auto o = to_load_options(l, 15s);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->model(), load::Model::open);
  EXPECT_EQ(o->duration, 15s);
  EXPECT_EQ(o->rate_stages.size(), 2u);
}

TEST(ToLoadOptions, CarriesTlsAndTheMixSeed) {
  LoadSpec l;
  l.name = "secure";
  l.url = "https://localhost:8443/";
  l.tls_verify = false;
  l.tls_ca_file = "ca.pem";
  l.seed = 42;
  auto o = to_load_options(l, 5s);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_FALSE(o->tls.verify);
  EXPECT_EQ(o->tls.ca_file, "ca.pem");
  EXPECT_EQ(o->seed, std::optional<std::uint64_t>(42));
}

TEST(ToLoadOptions, AScenarioWithARateRunsSessionsAndWithoutOneUsers) {
  chaosplus::testing::TempDir dir;
  chaosplus::testing::write_file(dir.file("s.yaml"), "steps:\n  - {path: /a}\n  - {path: /b}\n");
  LoadSpec l;
  l.name = "sessions";
  l.url = "http://127.0.0.1:8080/";
  l.scenario = dir.file("s.yaml");
  l.rate = 50;
  l.max_sessions = 7;
  auto open = to_load_options(l, 5s);
  ASSERT_TRUE(open.ok()) << open.error();
  EXPECT_EQ(open->model(), load::Model::open);
  EXPECT_EQ(open->max_sessions, 7u);
  EXPECT_EQ(open->vus, 0u);
  l.rate = 0;
  l.max_sessions.reset();
  l.connections = 4;
  auto users = to_load_options(l, 5s);
  ASSERT_TRUE(users.ok()) << users.error();
  EXPECT_EQ(users->model(), load::Model::users);
  EXPECT_EQ(users->vus, 4u) << "one user per connection";
}

TEST(ToLoadOptions, AMissingScenarioFileIsAnError) {
  LoadSpec l;
  l.name = "users";
  l.url = "http://127.0.0.1:8080/";
  l.scenario = "/nonexistent/scenario.yaml";
  auto o = to_load_options(l, 5s);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().find("users"), std::string::npos) << o.error();
}

}  // namespace
}  // namespace chaosplus::load
