#include <gtest/gtest.h>

#include "fuzz/fuzz_spec.h"
#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

constexpr const char* kDocument = R"(openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /health:
    get:
      operationId: health
      responses: {"200": {description: ok}}
)";

TEST(FuzzBlock, ReadsItsSettingsAndResolvesTheDocumentBesideTheExperiment) {
  testing::TempDir dir;
  testing::write_file(dir.file("api.yaml"), kDocument);
  const std::string experiment = dir.file("exp.yaml");
  testing::write_file(experiment, R"(name: fuzzed
targets:
  shop: {process: {command: [sleep, "60"]}}
phases:
  - name: degraded
    duration: 10s
    fuzz:
      openapi: api.yaml
      base_url: http://127.0.0.1:8080
      seed: 7
      connections: 4
      timeout: 2s
      headers: {Authorization: Bearer x}
      target: shop
      memory_growth: 50MiB
      thresholds: ["findings < 1", "findings{severity>=high} < 2"]
)");
  const LoadResult result = load_experiment_file(experiment);
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const auto& activities = result.experiment->phases[0].activities;
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].kind, "fuzz");
  EXPECT_EQ(activities[0].name, "degraded");
  const auto* fuzz = activities[0].as<fuzz::FuzzSpec>();
  ASSERT_NE(fuzz, nullptr);
  EXPECT_EQ(fuzz->openapi, dir.file("api.yaml"));
  EXPECT_EQ(fuzz->seed, 7u);
  EXPECT_EQ(fuzz->connections, 4);
  EXPECT_EQ(fuzz->target, "shop");
  EXPECT_EQ(fuzz->memory_growth, 50ULL << 20);
  ASSERT_EQ(fuzz->headers.size(), 1u);
  ASSERT_EQ(fuzz->thresholds.size(), 2u);
  EXPECT_FALSE(fuzz->thresholds[0].at_least);
  EXPECT_EQ(fuzz->thresholds[1].at_least, fuzz::Severity::high);
  EXPECT_TRUE(fuzz->thresholds[1].condition.holds(1));
  EXPECT_FALSE(fuzz->thresholds[1].condition.holds(2));
  EXPECT_TRUE(fuzz->judges());
}

TEST(FuzzBlock, ProblemsAreReportedWhereTheyAre) {
  testing::TempDir dir;
  testing::write_file(dir.file("broken.yaml"), "openapi: 3.0.3\npaths: [1]\n");
  const std::string experiment = dir.file("exp.yaml");
  testing::write_file(experiment, R"(name: fuzzed
phases:
  - name: p
    duration: 10s
    fuzz:
      openapi: broken.yaml
      base_url: http://10.0.0.1:8080
      target: nobody
      thresholds: ["crashes < 1"]
)");
  const LoadResult result = load_experiment_file(experiment);
  ASSERT_FALSE(result.ok());
  std::string all;
  for (const auto& e : result.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("exp.yaml:6"), std::string::npos) << all;  // the openapi line
  EXPECT_NE(all.find("broken.yaml"), std::string::npos) << all;
  EXPECT_NE(all.find("loopback"), std::string::npos) << all;
  EXPECT_NE(all.find("nobody"), std::string::npos) << all;
  EXPECT_NE(all.find("crashes < 1"), std::string::npos) << all;
}

}  // namespace
}  // namespace chaosplus::spec
