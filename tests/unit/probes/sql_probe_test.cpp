// The SQL probe's judgement (rows, value, output, latency) and its failures that need no server; a
// probe against a real PostgreSQL runs in tests/integration/sql_probe_test.cpp.
#include <gtest/gtest.h>

#include "probes/expectation.h"
#include "probes/probe.h"
#include "support/support.h"

namespace chaosplus::probes {
namespace {

using namespace std::chrono_literals;

Comparison rows(CompareOp op, double n) { return Comparison{op, n}; }

TEST(JudgeSql, PassesWithNoExpectation) { EXPECT_EQ(judge_sql({}, 0, std::nullopt, "", 1ms), ""); }

TEST(JudgeSql, ComparesTheRowCount) {
  spec::Expectation expect;
  expect.rows = rows(CompareOp::greater_equal, 1);
  EXPECT_EQ(judge_sql(expect, 2, "a", "a\nb", 1ms), "");
  EXPECT_EQ(judge_sql(expect, 0, std::nullopt, "", 1ms), "0 rows, expected >= 1");
  expect.rows = rows(CompareOp::equal, 3);
  EXPECT_EQ(judge_sql(expect, 1, "a", "a", 1ms), "1 row, expected == 3");
}

TEST(JudgeSql, ComparesTheFirstValueAsText) {
  spec::Expectation expect;
  expect.value = "f";
  EXPECT_EQ(judge_sql(expect, 1, "f", "f", 1ms), "");
  EXPECT_EQ(judge_sql(expect, 1, "t", "t", 1ms), "the first value is 't', expected 'f'");
  EXPECT_EQ(judge_sql(expect, 1, std::nullopt, "", 1ms), "the first value is NULL, expected 'f'");
  EXPECT_EQ(judge_sql(expect, 0, std::nullopt, "", 1ms), "no row, expected the value 'f'");
}

TEST(JudgeSql, ReadsTheRowsAsOutput) {
  spec::Expectation expect;
  expect.output_contains = "paid";
  expect.output_regex = "^1\tpaid$";
  EXPECT_EQ(judge_sql(expect, 1, "1", "1\tpaid", 1ms), "");
  EXPECT_EQ(judge_sql(expect, 1, "1", "1\tnew", 1ms), "output does not contain 'paid'");
}

TEST(JudgeSql, ChecksLatencyLast) {
  spec::Expectation expect;
  expect.latency = Comparison{CompareOp::less, 0.1};
  EXPECT_EQ(judge_sql(expect, 1, "1", "1", 50ms), "");
  EXPECT_NE(judge_sql(expect, 1, "1", "1", 150ms).find("latency"), std::string::npos);
}

TEST(RunSql, ARefusedServerFailsWithTheHostAndPort) {
  spec::Probe probe;
  probe.name = "db";
  const int port = testing::free_port();
  probe.kind = spec::SqlProbe{"host=127.0.0.1 port=" + std::to_string(port) + " user=postgres", "SELECT 1", 2s};
  const ProbeResult result = run(probe);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << result.detail;
}

TEST(RunSql, ASilentServerFailsAtTheTimeout) {
  testing::Listener silent;
  spec::Probe probe;
  probe.kind = spec::SqlProbe{"host=127.0.0.1 port=" + std::to_string(silent.port()), "SELECT 1", 200ms};
  const ProbeResult result = run(probe);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("no answer within 200ms"), std::string::npos) << result.detail;
}

TEST(RunSql, ANonLoopbackHostIsRefusedWithoutConnecting) {
  spec::Probe probe;
  probe.kind = spec::SqlProbe{"host=192.0.2.7 connect_timeout=30", "SELECT 1", 30s};
  const ProbeResult result = run(probe);
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("allow-list"), std::string::npos) << result.detail;
}

}  // namespace
}  // namespace chaosplus::probes
