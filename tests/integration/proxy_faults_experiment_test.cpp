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

// Issue 9: `reset share: 10%` draws per connection, so with keep-alive it hit 1 request in 7,500 and
// nothing said so. fault.reverted now reports the connections it drew for, hit and passed by.
TEST(ProxyFaultsInExperiments, AResetReportsTheConnectionsItDrewForAndHit) {
  TokenService s;
  std::string out;
  const std::string load = "      name: reach\n      url: http://127.0.0.1:" + std::to_string(s.proxy) +
                           "/health\n      connections: 4\n      rate: 100/s\n";
  const int code = s.run("reset: { target: tokens, share: 50%, at: 500ms, for: 1500ms }", &out, "3s", load);
  ASSERT_NE(code, -1) << out;
  const auto reverted = s.event("fault.reverted");
  ASSERT_TRUE(reverted.contains("reach.connections")) << reverted.dump() << "\n" << out;
  const double hit = reverted["reach.connections"].get<double>();
  const double skipped = reverted["reach.connections_skipped"].get<double>();
  double errors = 0;
  for (const auto& tick : s.events("load.tick")) errors += tick["errors"].get<double>();
  double probe_failures = 0;  // the steady-state probe goes through the proxy too, a connection each
  for (const auto& r : s.probe_results("during")) probe_failures += r["ok"].get<bool>() ? 0 : 1;
  // A hit connection is reset at once: the request on it fails, and the client opens a new
  // connection that draws again. So every error the load or the probe saw is a hit, and every hit
  // is such an error, but for the load's last new connections: one opened after a reset as the
  // phase ends may be hit and closed before a request went on it (seen once on a loaded machine:
  // 14 hits, 13 errors). At most one per load connection.
  EXPECT_GE(hit, 1) << reverted.dump();
  EXPECT_GE(skipped, 1) << reverted.dump();
  EXPECT_GE(hit, errors + probe_failures)
      << reverted.dump() << " load errors " << errors << ", probe failures " << probe_failures;
  EXPECT_LE(hit, errors + probe_failures + 4)
      << reverted.dump() << " load errors " << errors << ", probe failures " << probe_failures;
  EXPECT_NE(out.find("share 50%"), std::string::npos) << out;
}

}  // namespace
}  // namespace chaosplus
