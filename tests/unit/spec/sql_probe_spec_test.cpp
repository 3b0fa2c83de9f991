// Reading `sql:` probes: the model they become, and the mistakes validate reports (more in
// tests/data/experiments/invalid/sql-probe.yaml).
#include <gtest/gtest.h>

#include "spec/loader.h"

namespace chaosplus::spec {
namespace {

LoadResult load(const std::string& probes) {
  return load_experiment_text(
      "name: x\nsteady_state:\n  probes:\n" + probes + "phases:\n  - name: a\n    duration: 1s\n", "x.yaml");
}

std::string errors(const LoadResult& result) {
  std::string text;
  for (const auto& e : result.errors) text += e.to_string() + "\n";
  return text;
}

TEST(SqlProbeSpec, ReadsDsnQueryTimeoutAndExpectations) {
  auto result = load(
      "    - name: primary\n"
      "      sql: { dsn: \"host=127.0.0.11,127.0.0.12 target_session_attrs=read-write\", query: \"SELECT 1\", "
      "timeout: 3s }\n"
      "      expect: { rows: \"== 1\", value: 1, output_regex: \"^1$\", latency: \"< 1s\" }\n"
      "      every: 1s\n");
  ASSERT_TRUE(result.ok()) << errors(result);
  const Probe& probe = result.experiment->steady_state.probes.at(0);
  const auto* sql = std::get_if<SqlProbe>(&probe.kind);
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(sql->dsn, "host=127.0.0.11,127.0.0.12 target_session_attrs=read-write");
  EXPECT_EQ(sql->query, "SELECT 1");
  EXPECT_EQ(sql->timeout, std::chrono::seconds(3));
  ASSERT_TRUE(probe.expect.rows);
  EXPECT_EQ(probe.expect.rows->op, CompareOp::equal);
  EXPECT_EQ(probe.expect.rows->value, 1);
  EXPECT_EQ(probe.expect.value, "1");  // a YAML number, taken as written
  EXPECT_EQ(probe.expect.output_regex, "^1$");
  ASSERT_TRUE(probe.every);
}

TEST(SqlProbeSpec, DefaultsToAFiveSecondTimeout) {
  auto result = load("    - name: db\n      sql: { dsn: \"postgresql://127.0.0.1/postgres\", query: \"SELECT 1\" }\n");
  ASSERT_TRUE(result.ok()) << errors(result);
  EXPECT_EQ(std::get<SqlProbe>(result.experiment->steady_state.probes.at(0).kind).timeout, std::chrono::seconds(5));
}

TEST(SqlProbeSpec, ANonLoopbackHostIsAnErrorAtItsLine) {
  auto result = load(
      "    - name: db\n      sql:\n        dsn: \"postgresql://10.1.1.1:5432/app\"\n        query: \"SELECT 1\"\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << errors(result);
  EXPECT_EQ(result.errors[0].line, 6);
  EXPECT_NE(result.errors[0].message.find("\"10.1.1.1\" is not a unix socket directory nor on the allow-list"), std::string::npos) << errors(result);
}

}  // namespace
}  // namespace chaosplus::spec
