// Byte-level proxy faults written in an experiment act on the connections through the target's
// fault proxy and are gone after the run.
#include <gtest/gtest.h>

#include "support/token_experiment.h"

namespace chaosplus {
namespace {

using TokenService = testing::TokenServiceExperiment;

TEST(ProxyFaultsInExperiments, LimitDataTruncatesEveryResponseThenIsGone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("limit_data: { target: tokens, bytes: 12 }", &out), 1) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 5u);
  for (const auto& r : during) EXPECT_FALSE(r["ok"].get<bool>()) << r.dump();
  auto after = s.probe_results("after");  // the steady state after the revert
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0]["ok"].get<bool>()) << after[0].dump();
}

TEST(ProxyFaultsInExperiments, TimeoutHangsRequestsThenClosesTheConnection) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("timeout: { target: tokens, after: 50ms }", &out), 1) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 3u);
  for (const auto& r : during) EXPECT_FALSE(r["ok"].get<bool>()) << r.dump();
  auto after = s.probe_results("after");  // the steady state after the revert
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0]["ok"].get<bool>()) << after[0].dump();
}

TEST(ProxyFaultsInExperiments, AFaultOnNoShareOfConnectionsLeavesThemAlone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("limit_data: { target: tokens, bytes: 12, share: 0% }", &out), 0) << out;
}

}  // namespace
}  // namespace chaosplus
