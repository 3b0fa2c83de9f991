// A load's `generators:` and `on:` (distributed load, docs/load.md).
#include <gtest/gtest.h>

#include <algorithm>

#include "load/load_spec.h"
#include "spec/loader.h"

namespace chaosplus::spec {
namespace {

LoadResult load_with(const std::string& extra) {
  return load_experiment_text(R"(name: spread
phases:
  - name: peak
    duration: 5s
    load:
      url: http://127.0.0.1:8080/
      rate: 40000/s
      connections: 64
)" + extra,
                              "spread.yaml");
}

std::string errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

const load::LoadSpec& the_load(const LoadResult& r) {
  return *r.experiment->phases.at(0).activities.at(0).as<load::LoadSpec>();
}

TEST(LoadGenerators, WithoutThemTheLoadIsLocal) {
  const auto r = load_with("");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(the_load(r).generators, 0);
  EXPECT_FALSE(the_load(r).on_agents());
}

TEST(LoadGenerators, ANumberAloneTakesAnyAgents) {
  const auto r = load_with("      generators: 4\n");
  ASSERT_TRUE(r.ok()) << errors(r);
  EXPECT_EQ(the_load(r).generators, 4);
  EXPECT_TRUE(the_load(r).on_agents());
  EXPECT_TRUE(the_load(r).generators_on.labels.empty());
  EXPECT_TRUE(the_load(r).generators_on.host.empty());
}

TEST(LoadGenerators, OnNamesAgentsByLabelAndHost) {
  const auto r = load_with("      generators: 2\n      on: {role: loadgen, zone: a, host: gen-1}\n");
  ASSERT_TRUE(r.ok()) << errors(r);
  const auto& on = the_load(r).generators_on;
  EXPECT_EQ(on.labels.size(), 2u);
  EXPECT_EQ(on.labels.at("role"), "loadgen");
  EXPECT_EQ(on.host, "gen-1");
  EXPECT_EQ(on.pick, AgentSelector::Pick::all);
  EXPECT_EQ(on.mark.line, 10);
}

TEST(LoadGenerators, OnWithoutGeneratorsIsAnErrorThatSaysWhere) {
  const auto r = load_with("      on: {role: loadgen}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(errors(r).find("spread.yaml:9:"), std::string::npos) << errors(r);
  EXPECT_NE(errors(r).find("on: found without generators"), std::string::npos) << errors(r);
}

TEST(LoadGenerators, EveryGeneratorNeedsAConnection) {
  const auto r = load_with("      generators: 100\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(errors(r).find("spread.yaml:9:"), std::string::npos) << errors(r);
  EXPECT_NE(errors(r).find("at least one connection per generator"), std::string::npos) << errors(r);
}

TEST(LoadGenerators, OnPicksNothingItself) {
  const auto r = load_with("      generators: 2\n      on: {role: loadgen, pick: random}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(errors(r).find("spread.yaml:10:"), std::string::npos) << errors(r);
  EXPECT_NE(errors(r).find("pick: found in the on: of load peak, expected only labels and host"), std::string::npos)
      << errors(r);
}

TEST(LoadGenerators, ZeroOrAWordIsRefused) {
  EXPECT_FALSE(load_with("      generators: 0\n").ok());
  EXPECT_FALSE(load_with("      generators: four\n").ok());
  EXPECT_FALSE(load_with("      generators: 2\n      on: [loadgen]\n").ok());
}

}  // namespace
}  // namespace chaosplus::spec
