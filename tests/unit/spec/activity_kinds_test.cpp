#include "spec/activity_kinds.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

// Until the schema file is generated from the registries, it must say what each kind brings.
TEST(ActivityKinds, TheSchemaFileHoldsEachKindsFragmentAndAPhaseKeyForIt) {
  const auto schema = nlohmann::json::parse(testing::read_file(testing::source_path("schema/experiment.schema.json")));
  ASSERT_FALSE(activity_kinds().empty());
  for (const ActivityKind& kind : activity_kinds()) {
    const auto fragment = nlohmann::json::parse(kind.schema);
    ASSERT_TRUE(fragment.contains(std::string(kind.name))) << kind.name << " brings no block of its own";
    for (const auto& [name, definition] : fragment.items()) {
      ASSERT_TRUE(schema["definitions"].contains(name)) << kind.name << ": " << name;
      EXPECT_EQ(schema["definitions"][name], definition) << kind.name << ": " << name;
    }
    EXPECT_EQ(schema["definitions"]["phase"]["properties"][std::string(kind.name)],
              (nlohmann::json{{"$ref", "#/definitions/" + std::string(kind.name)}}))
        << kind.name;
  }
}

TEST(ActivityKinds, AreFoundByName) {
  ASSERT_NE(find_activity_kind("load"), nullptr);
  EXPECT_EQ(find_activity_kind("load")->name, "load");
  EXPECT_EQ(find_activity_kind("fuzzz"), nullptr);
}

TEST(ActivityKinds, APhasesLoadBlockIsAnActivityOfTheLoadKind) {
  const LoadResult result = load_experiment_text(R"(name: rush
phases:
  - name: peak
    duration: 2s
    load: { url: "http://127.0.0.1:8080/", thresholds: ["p99 < 250ms"] }
)",
                                                 "rush.yaml");
  ASSERT_TRUE(result.ok()) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const auto& activities = result.experiment->phases[0].activities;
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].kind, "load");
  EXPECT_EQ(activities[0].name, "peak");  // a load without a name takes its phase's
  EXPECT_EQ(activities[0].mark.line, 5);
  const Load* load = activities[0].as<Load>();
  ASSERT_NE(load, nullptr);
  EXPECT_EQ(load->url, "http://127.0.0.1:8080/");
  ASSERT_EQ(load->thresholds.size(), 1u);
  EXPECT_EQ(load->thresholds[0].metric, "p99");
  EXPECT_TRUE(load->judges());
}

TEST(ActivityKinds, AMisspelledKindIsAnUnknownKeyOfThePhaseWithASuggestion) {
  const LoadResult result = load_experiment_text(R"(name: rush
phases:
  - name: peak
    duration: 2s
    laod: { url: "http://127.0.0.1:8080/" }
)",
                                                 "rush.yaml");
  ASSERT_FALSE(result.ok());
  bool suggested = false;
  for (const auto& d : result.errors)
    suggested = suggested || d.message.find("did you mean 'load'") != std::string::npos;
  EXPECT_TRUE(suggested) << result.errors[0].to_string();
}

}  // namespace
}  // namespace chaosplus::spec
