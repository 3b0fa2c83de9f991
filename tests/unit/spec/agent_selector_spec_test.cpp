// `on:` on a target: which agents hold it (docs/agents.md, docs/experiment-format.md).
#include <gtest/gtest.h>

#include "spec/loader.h"
#include "spec/schema.h"

namespace chaosplus::spec {
namespace {

std::string with_on(const std::string& on) {
  return "name: fleet\ntargets:\n  db:\n    on: " + on +
         "\n    attach: {name: postgres}\nphases:\n  - name: p\n    duration: 1s\n    faults:\n"
         "      - pause: {target: db}\n";
}

std::string errors_of(const LoadResult& result) {
  std::string out;
  for (const auto& e : result.errors) out += e.to_string() + "\n";
  return out;
}

TEST(TargetOn, ReadsLabelsAndDefaultsToPickingOne) {
  auto result = load_experiment_text(with_on("{role: db, zone: a}"), "f.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const Target& db = result.experiment->targets.at(0);
  ASSERT_TRUE(db.on);
  EXPECT_EQ(db.on->labels, (std::map<std::string, std::string>{{"role", "db"}, {"zone", "a"}}));
  EXPECT_TRUE(db.on->host.empty());
  EXPECT_EQ(db.on->pick, AgentSelector::Pick::one);
  EXPECT_EQ(db.on->mark.line, 4);
}

TEST(TargetOn, ReadsAHostAndPickAll) {
  auto result = load_experiment_text(with_on("{host: db-2, pick: all}"), "f.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& on = *result.experiment->targets.at(0).on;
  EXPECT_EQ(on.host, "db-2");
  EXPECT_EQ(on.pick, AgentSelector::Pick::all);
  EXPECT_TRUE(on.labels.empty());
}

TEST(TargetOn, ReadsARandomShare) {
  auto result = load_experiment_text(with_on("{role: web, pick: random, share: 50%}"), "f.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  const auto& on = *result.experiment->targets.at(0).on;
  EXPECT_EQ(on.pick, AgentSelector::Pick::random);
  EXPECT_DOUBLE_EQ(on.share, 0.5);
}

TEST(TargetOn, ATargetWithoutOnIsOnThisHost) {
  auto result = load_experiment_text(
      "name: here\ntargets:\n  db: {attach: {name: postgres}}\nphases: [{name: p, duration: 1s}]\n", "h.yaml");
  ASSERT_TRUE(result.ok()) << errors_of(result);
  EXPECT_FALSE(result.experiment->targets.at(0).on);
}

// Each wrong `on:` is one error at its line and column, saying what was expected.
TEST(TargetOn, ReportsEachMistakeWhereItIs) {
  struct Case {
    std::string on;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"{role: db, pick: some}", "f.yaml:4:26: pick: found 'some', expected one, all or random"},
           {"{role: db, share: 50%}", "share: only used with pick: random"},
           {"{role: db, pick: random, share: 150%}", "share: found '150%', expected a percentage above 0%"},
           {"{role: db, pick: random, share: 0%}", "expected a percentage above 0%"},
           {"{pick: all}", "names no agent, expected labels (role: db) or host: NAME"},
           {"db", "f.yaml:4:9: on: found text 'db', expected a map of agent labels"},
           {"{\"bad label\": x}", "found the label 'bad label'"},
       }) {
    auto result = load_experiment_text(with_on(c.on), "f.yaml");
    ASSERT_FALSE(result.ok()) << c.on;
    const std::string all = errors_of(result);
    EXPECT_NE(all.find(c.says), std::string::npos) << c.on << "\n" << all;
  }
}

TEST(TargetOn, TheSchemaAcceptsWhatTheLoaderAccepts) {
  const std::string schema(experiment_schema_text());
  EXPECT_NE(schema.find("\"agentSelector\""), std::string::npos);
  EXPECT_NE(schema.find("\"$ref\": \"#/definitions/agentSelector\""), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::spec
