// HTTP faults written in an experiment act on the requests through the target's fault proxy and
// are gone after the run.
#include <gtest/gtest.h>

#include "support/token_experiment.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

using TokenService = testing::TokenServiceExperiment;

TEST(HttpFaultsInExperiments, AnHttpErrorOnEveryMatchingRequestMakesTheProbeFailThenIsGone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_error: { target: tokens, status: 503, path: /health, body: injected }", &out), 1) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 5u);
  for (const auto& r : during) EXPECT_EQ(r["status"], 503) << r.dump();
  auto after = s.probe_results("after");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0]["ok"].get<bool>()) << after[0].dump();
}

TEST(HttpFaultsInExperiments, AnHttpErrorOnAnotherPathLeavesTheProbeAlone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_error: { target: tokens, status: 500, method: POST, path: /orders/* }", &out), 0) << out;
}

TEST(HttpFaultsInExperiments, AnHttpDelayHoldsMatchingRequests) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_delay: { target: tokens, delay: 200ms, path: /health }", &out), 0) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 2u);
  for (const auto& r : during) EXPECT_GE(r["latency_ms"].get<double>(), 200) << r.dump();
}

}  // namespace
}  // namespace chaosplus
