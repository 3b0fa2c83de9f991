#include "spec/schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "spec/fault_catalog.h"
#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

using testing::read_file;
using testing::source_path;

YamlNode read(std::string_view text) {
  auto doc = read_yaml(text, [](std::string_view) { return std::nullopt; });
  EXPECT_TRUE(doc.issues.empty());
  EXPECT_TRUE(doc.root.has_value());
  return doc.root.value_or(YamlNode{});
}

std::string messages(const std::vector<SchemaIssue>& issues) {
  std::string out;
  for (const auto& i : issues)
    out += i.pointer + " " + std::to_string(i.mark.line) + ":" + std::to_string(i.mark.column) + " " + i.message + "\n";
  return out;
}

// The checked-in schema is the generated one: a fault type added or changed in the registry shows
// here until the file is regenerated.
TEST(ExperimentSchema, TheCheckedInFileIsWhatChaosplusSchemaPrints) {
  EXPECT_TRUE(experiment_schema_text() == read_file(source_path("schema/experiment.schema.json")))
      << "schema/experiment.schema.json differs from the schema generated from the fault registry; regenerate it "
         "with: build/bin/chaosplus schema > schema/experiment.schema.json";
}

// Everything but the faults is hand-kept in the base, the faults come from the registry alone.
TEST(ExperimentSchema, EveryRegisteredFaultTypeAndParameterIsInIt) {
  const auto schema = nlohmann::json::parse(experiment_schema_text());
  const auto& faults = schema["definitions"]["fault"]["properties"];
  EXPECT_EQ(faults.size(), fault_catalog().size());
  for (const auto& type : fault_catalog()) {
    const std::string name(type.name);
    ASSERT_TRUE(faults.contains(name)) << name;
    EXPECT_EQ(faults[name]["description"], std::string(type.help)) << name;
    for (const auto& param : type.params) {
      const auto& p = faults[name]["properties"][std::string(param.name)];
      EXPECT_EQ(p["description"], std::string(param.help)) << name << "." << param.name;
      if (!param.default_value.empty()) {
        EXPECT_EQ(p["default"], std::string(param.default_value)) << param.name;
      }
    }
  }
  const auto base = nlohmann::json::parse(experiment_schema_base_text());
  EXPECT_FALSE(base["definitions"]["fault"].contains("properties")) << "the base must not list fault types";
}

TEST(ExperimentSchema, IsDraft7JsonThatDescribesTheTopLevelKeys) {
  const auto schema = nlohmann::json::parse(experiment_schema_text());
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  std::set<std::string> keys;
  for (const auto& [key, _] : schema["properties"].items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"name", "description", "targets", "extensions", "steady_state", "guardrails",
                                         "phases", "rollbacks", "outputs"}));
  EXPECT_EQ(schema["required"], nlohmann::json::array({"name", "phases"}));
}

TEST(CheckAgainstSchema, AcceptsEveryValidExperimentFile) {
  for (const auto& entry : std::filesystem::directory_iterator(source_path("tests/data/experiments/valid"))) {
    const auto issues = check_against_schema(read(read_file(entry.path().string())));
    EXPECT_TRUE(issues.empty()) << entry.path() << "\n" << messages(issues);
  }
}

TEST(CheckAgainstSchema, PointsAnUnknownKeyAtTheKey) {
  const auto issues = check_against_schema(read("name: x\nphases:\n  - name: a\n    duration: 1s\n    colour: red\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/phases/0/colour");
  EXPECT_EQ(issues[0].mark.line, 5);
  EXPECT_EQ(issues[0].mark.column, 5);
  EXPECT_NE(issues[0].message.find("unknown key 'colour'"), std::string::npos);
}

TEST(CheckAgainstSchema, ReportsMissingRequiredKeysAtTheirMap) {
  const auto issues = check_against_schema(read("name: x\nphases:\n  - name: a\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/phases/0");
  EXPECT_EQ(issues[0].mark.line, 3);
  EXPECT_EQ(issues[0].mark.column, 5);
  EXPECT_EQ(issues[0].message, "missing required key 'duration'");
}

TEST(CheckAgainstSchema, ReportsWrongTypesAndPatternsAtTheValue) {
  const auto issues =
      check_against_schema(read("name: x\nphases:\n  - name: a\n    duration: 10\n  - name: b\n    duration: soon\n"));
  ASSERT_EQ(issues.size(), 2u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/phases/0/duration");
  EXPECT_EQ(issues[0].mark.line, 4);
  EXPECT_EQ(issues[0].mark.column, 15);
  EXPECT_NE(issues[0].message.find("found the number 10"), std::string::npos);
  EXPECT_EQ(issues[1].pointer, "/phases/1/duration");
  EXPECT_NE(issues[1].message.find("found text 'soon'"), std::string::npos);
}

// Editors and other tools see the same output rules as the loader: a journal below the runs folder,
// names without control characters, argv entries without NUL.
TEST(CheckAgainstSchema, KeepsTheJournalBelowTheRunsFolderAndTextPrintable) {
  const std::string phases = "name: x\nphases: [{name: a, duration: 1s}]\n";
  for (const std::string ok : {"{name}-{run}.jsonl", "team/{name}/{time}.jsonl", "a..b.jsonl"}) {
    EXPECT_TRUE(check_against_schema(read(phases + "outputs: {journal: \"" + ok + "\"}\n")).empty()) << ok;
  }
  for (const std::string bad : {"/etc/shadow", "../x.jsonl", "a/../../x.jsonl", "a/.."}) {
    const auto issues = check_against_schema(read(phases + "outputs: {journal: \"" + bad + "\"}\n"));
    ASSERT_EQ(issues.size(), 1u) << bad << "\n" << messages(issues);
    EXPECT_EQ(issues[0].pointer, "/outputs/journal") << bad;
  }
  const auto names = check_against_schema(read("name: x\nphases: [{name: \"a\\tb\", duration: 1s}]\n"));
  ASSERT_EQ(names.size(), 1u) << messages(names);
  EXPECT_EQ(names[0].pointer, "/phases/0/name");
  const auto argv = check_against_schema(
      read("name: x\ntargets: {t: {process: {command: [p, \"a\\0b\"]}}}\nphases: [{name: a, duration: 1s}]\n"));
  ASSERT_EQ(argv.size(), 1u) << messages(argv);
  EXPECT_EQ(argv[0].pointer, "/targets/t/process/command/1");
}

TEST(CheckAgainstSchema, RejectsAnEmptyPhaseList) {
  const auto issues = check_against_schema(read("name: x\nphases: []\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/phases");
}

TEST(CheckAgainstSchema, RejectsToleranceWithoutEvery) {
  const auto issues =
      check_against_schema(read("name: x\nsteady_state:\n  probes:\n    - { name: p, tcp: { address: \"127.0.0.1:1\" "
                                "}, tolerance: { window: 1s } }\n"
                                "phases: [{name: a, duration: 1s}]\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/steady_state/probes/0");
  EXPECT_NE(issues[0].message.find("every"), std::string::npos);
}

TEST(CheckAgainstSchema, RejectsExpectationsOfAnotherProbeKind) {
  const auto issues =
      check_against_schema(read("name: x\nsteady_state:\n  probes:\n    - { name: p, tcp: { address: \"127.0.0.1:1\" "
                                "}, expect: { status: 200 } }\n"
                                "phases: [{name: a, duration: 1s}]\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/steady_state/probes/0/expect/status");
}

TEST(CheckAgainstSchema, PointsABadTargetNameAtTheTargetsMap) {
  // valijson does not say which name broke 'propertyNames'; the map that holds it is the best place.
  const auto issues = check_against_schema(
      read("name: x\ntargets:\n  \"my api\": { endpoint: \"127.0.0.1:1\" }\nphases: [{name: a, duration: 1s}]\n"));
  ASSERT_EQ(issues.size(), 1u) << messages(issues);
  EXPECT_EQ(issues[0].pointer, "/targets");
  EXPECT_EQ(issues[0].mark.line, 3);
  EXPECT_NE(issues[0].message.find("a name in it"), std::string::npos);
}

// docs/experiment-format.md must stay true to the schema: every key the schema knows is documented.
TEST(ExperimentFormatDocs, MentionEveryKeyOfTheSchema) {
  const std::string docs = read_file(source_path("docs/experiment-format.md"));
  const auto schema = nlohmann::json::parse(experiment_schema_text());
  std::set<std::string> keys;
  std::function<void(const nlohmann::json&)> collect = [&](const nlohmann::json& node) {
    if (node.is_object()) {
      if (node.contains("properties") && node["properties"].is_object()) {
        for (const auto& [key, _] : node["properties"].items()) keys.insert(key);
      }
      for (const auto& [_, child] : node.items()) collect(child);
    } else if (node.is_array()) {
      for (const auto& child : node) collect(child);
    }
  };
  collect(schema);
  EXPECT_GT(keys.size(), 50u);
  for (const auto& key : keys) {
    EXPECT_NE(docs.find("`" + key + "`"), std::string::npos)
        << "docs/experiment-format.md does not mention `" << key << "`";
  }
}

TEST(ExperimentFormatDocs, CompleteExampleIsAValidExperiment) {
  const std::string docs = read_file(source_path("docs/experiment-format.md"));
  const std::size_t start = docs.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const std::size_t end = docs.find("\n```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const auto result = load_experiment_text(docs.substr(start + 8, end - start - 8), "docs-example.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  ASSERT_TRUE(result.experiment);
  EXPECT_EQ(result.experiment->phases.size(), 2u);
  EXPECT_EQ(result.experiment->phases[1].faults.size(), 7u) << "the example shows every fault type";
}

}  // namespace
}  // namespace chaosplus::spec
