#include "spec/activity_kinds.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
  EXPECT_EQ(find_activity_kind("fuzz"), nullptr);
}

}  // namespace
}  // namespace chaosplus::spec
