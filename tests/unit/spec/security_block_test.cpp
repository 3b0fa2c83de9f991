// The `security:` block of a phase (spec/builder_security.cpp, docs/security.md).
#include <gtest/gtest.h>

#include "security/security_activity.h"
#include "security/security_spec.h"
#include "spec/loader.h"

namespace chaosplus::spec {
namespace {

std::string errors_of(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.errors) out += d.to_string() + "\n";
  return out;
}

TEST(SecurityBlock, IsAnActivityOfTheSecurityKind) {
  // The document is loaded at validation: the demo's, by its absolute path.
  const std::string document = std::string(CHAOSPLUS_SOURCE_DIR) + "/demo/shop-api.openapi.yaml";
  const LoadResult result = load_experiment_text(R"(name: scan
phases:
  - name: tokens-down
    duration: 30s
    security:
      openapi: )" + document + R"(
      base_url: http://127.0.0.1:8080
      users:
        - { name: alice, header: "Authorization: Bearer demo-alice" }
        - { name: bob, header: "Authorization: Bearer demo-bob" }
      checks: [auth, injection]
      protected: [getOrder]
      recheck: 500ms
      delay: 3s
      thresholds: ["findings{severity>=critical} < 1", "findings < 5"]
)",
                                                 "scan.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& activities = result.experiment->phases[0].activities;
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].kind, "security");
  EXPECT_EQ(activities[0].name, "tokens-down");
  const auto* s = activities[0].as<security::SecuritySpec>();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->openapi, document);
  ASSERT_EQ(s->users.size(), 2u);
  EXPECT_EQ(s->users[1].name, "bob");
  EXPECT_EQ(s->users[1].header, "Authorization");
  EXPECT_EQ(s->users[1].value, "Bearer demo-bob");
  EXPECT_EQ(s->checks, (std::set<std::string>{"auth", "injection"}));
  EXPECT_EQ(s->protected_operations, (std::vector<std::string>{"getOrder"}));
  EXPECT_EQ(s->recheck, std::chrono::milliseconds(500));
  EXPECT_EQ(s->delay, std::chrono::seconds(3));
  ASSERT_EQ(s->thresholds.size(), 2u);
  EXPECT_EQ(s->thresholds[0].at_least, fuzz::Severity::critical);
  EXPECT_FALSE(s->thresholds[1].at_least);
  EXPECT_TRUE(s->judges());
}

TEST(SecurityBlock, ProblemsAreReportedWhereTheyAre) {
  const LoadResult result = load_experiment_text(R"(name: scan
phases:
  - name: p
    duration: 30s
    security:
      openapi: api.yaml
      base_url: http://10.1.2.3:8080
      users: [{ name: alice, header: "no colon" }]
      checks: [auth, sqli]
      thresholds: ["findings{severity>=urgent} < 1", "p99 < 1s"]
)",
                                                 "scan.yaml");
  ASSERT_FALSE(result.ok());
  const std::string all = errors_of(result);
  EXPECT_NE(all.find("scan.yaml:7"), std::string::npos) << all;  // not loopback
  EXPECT_NE(all.find("loopback"), std::string::npos) << all;
  EXPECT_NE(all.find("scan.yaml:8"), std::string::npos) << all;  // header without a colon
  EXPECT_NE(all.find("'sqli'"), std::string::npos) << all;
  EXPECT_NE(all.find("urgent"), std::string::npos) << all;
  EXPECT_NE(all.find("expected 'findings < N'"), std::string::npos) << all;
}

TEST(SecurityBlock, TwoWithOneNameAreReported) {
  const LoadResult result = load_experiment_text(R"(name: scan
phases:
  - name: a
    duration: 5s
    security: { name: scan, openapi: api.yaml, base_url: "http://127.0.0.1:8080" }
  - name: b
    duration: 5s
    security: { name: scan, openapi: api.yaml, base_url: "http://127.0.0.1:8080" }
)",
                                                 "scan.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(errors_of(result).find("scan.yaml:8:23: security name 'scan' is used twice"), std::string::npos)
      << errors_of(result);
}

TEST(SecurityThresholds, CountFindingsOfAtLeastASeverity) {
  security::SecuritySpec spec;
  spec.name = "scan";
  spec.thresholds.push_back(*security::parse_findings_threshold("findings{severity>=high} < 1"));
  spec.thresholds.push_back(*security::parse_findings_threshold("findings < 3"));
  std::vector<fuzz::Finding> findings(2);
  findings[0].severity = fuzz::Severity::low;
  findings[1].severity = fuzz::Severity::critical;
  const auto judged = security::judge_thresholds(spec, findings);
  ASSERT_EQ(judged.size(), 2u);
  EXPECT_EQ(judged[0].metric, "security.scan.findings");
  EXPECT_FALSE(judged[0].held);
  EXPECT_EQ(judged[0].measured, 1);
  EXPECT_EQ(judged[0].message, "findings of severity high or more = 1, NOT within findings{severity>=high} < 1");
  EXPECT_TRUE(judged[1].held);
  EXPECT_EQ(judged[1].measured, 2);
}

}  // namespace
}  // namespace chaosplus::spec
