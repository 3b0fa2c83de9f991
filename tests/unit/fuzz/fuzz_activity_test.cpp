#include "fuzz/fuzz_activity.h"

#include <gtest/gtest.h>

namespace chaosplus::fuzz {
namespace {

Finding finding(Severity severity, std::string title) {
  Finding f;
  f.severity = severity;
  f.title = std::move(title);
  return f;
}

TEST(FuzzThresholds, CountUniqueFindingsAtOrAboveASeverity) {
  FuzzSpec spec;
  spec.name = "api";
  spec.thresholds.push_back({std::nullopt, Comparison{CompareOp::less, 1}, "findings < 1", {}});
  spec.thresholds.push_back({Severity::high, Comparison{CompareOp::less, 1}, "findings{severity>=high} < 1", {}});
  const std::vector<Finding> findings{finding(Severity::low, "accepts qty 0"), finding(Severity::medium, "leak")};
  auto results = judge_thresholds(spec, findings);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].metric, "fuzz.api.findings");
  EXPECT_FALSE(results[0].held);
  EXPECT_EQ(results[0].measured, 2);
  EXPECT_NE(results[0].message.find("accepts qty 0"), std::string::npos) << results[0].message;
  EXPECT_EQ(results[1].metric, "fuzz.api.findings{severity>=high}");
  EXPECT_TRUE(results[1].held) << results[1].message;
  EXPECT_EQ(results[1].measured, 0);
}

TEST(FuzzThresholds, TheSummaryEventCarriesTheFiguresAndTheVerdicts) {
  FuzzSpec spec;
  spec.name = "api";
  FuzzSummary summary;
  summary.requests = 1000;
  summary.elapsed_s = 2;
  summary.findings = {finding(Severity::high, "500"), finding(Severity::high, "hang")};
  Judgment j;
  j.held = false;
  j.message = "findings = 2, NOT within findings < 1";
  const Event e = summary_event(spec, summary, {j});
  EXPECT_EQ(e.type, "fuzz.summary");
  EXPECT_EQ(std::get<std::int64_t>(*e.find("requests")), 1000);
  EXPECT_DOUBLE_EQ(std::get<double>(*e.find("requests_per_s")), 500.0);
  EXPECT_EQ(std::get<std::string>(*e.find("by_severity")), R"({"high":2})");
  EXPECT_FALSE(std::get<bool>(*e.find("thresholds_held")));
}

}  // namespace
}  // namespace chaosplus::fuzz
