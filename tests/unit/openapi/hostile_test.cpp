// Deep, huge or self-multiplying documents end in an error that says which bound they crossed,
// never in a crash, a hang or exhausted memory.
#include <gtest/gtest.h>

#include "openapi/document.h"

namespace chaosplus::openapi {
namespace {

std::string error_of(const std::string& text, const std::string& file = "hostile.yaml") {
  auto loaded = load_text(text, file);
  if (loaded.ok()) return "(loaded)";
  return loaded.error();
}

std::string repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

TEST(Hostile, DeeplyNestedJsonIsRefused) {
  const std::string deep = "{\"openapi\": \"3.1.0\", \"x\": " + repeat("[", 200000) + repeat("]", 200000) + "}";
  const std::string error = error_of(deep, "deep.json");
  EXPECT_NE(error.find("nested more than 128 levels deep, expected a flatter document"), std::string::npos) << error;
}

TEST(Hostile, DeeplyNestedYamlIsRefused) {
  const std::string flow = "openapi: 3.0.3\nx: " + repeat("[", 100000) + repeat("]", 100000) + "\n";
  std::string error = error_of(flow);
  EXPECT_NE(error.find("nested too deep"), std::string::npos) << error;
  // Block style, under yaml-cpp's own bound but over ours.
  std::string block = "openapi: 3.0.3\nx:\n";
  for (int i = 0; i < 300; ++i) block += std::string(static_cast<std::size_t>(2 * i + 2), ' ') + "a:\n";
  error = error_of(block);
  EXPECT_TRUE(error.starts_with("hostile.yaml:")) << error;
  EXPECT_NE(error.find("nested more than 128 levels deep"), std::string::npos) << error;
}

TEST(Hostile, TooManyJsonValuesAreRefused) {
  std::string many = "{\"openapi\": \"3.1.0\", \"x\": [";
  for (int i = 0; i < 2'100'000; ++i) many += i ? ",0" : "0";
  many += "]}";
  const std::string error = error_of(many, "many.json");
  EXPECT_NE(error.find("the document has more than 2000000 values, expected a smaller document"), std::string::npos)
      << error;
}

TEST(Hostile, AliasBombIsRefused) {
  std::string bomb = "openapi: 3.0.3\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
            repeat("*a" + std::to_string(i - 1) + ", ", 9) + "*a" + std::to_string(i - 1) + "]\n";
  }
  const std::string error = error_of(bomb);
  EXPECT_NE(error.find("more than 2000000 values (YAML aliases expanding?)"), std::string::npos) << error;
}

TEST(Hostile, ExponentialReferencesAreCutNotExpanded) {
  // S0 has ten properties referring to S1, which has ten referring to S2...: 10^40 schemas if
  // inlined in full. Each schema expands at most kMaxExpansionsPerSchema references; the rest are
  // cut as cycles are.
  std::string doc =
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: x\n"
      "          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\n"
      "components:\n  schemas:\n";
  for (int i = 0; i < 40; ++i) {
    const std::string next = "{$ref: '#/components/schemas/S" + std::to_string(i + 1) + "'}";
    doc += "    S" + std::to_string(i) + ": {type: object, properties: {";
    for (char name = 'a'; name < 'k'; ++name) doc += std::string(name == 'a' ? "" : ", ") + name + ": " + next;
    doc += "}}\n";
  }
  doc += "    S40: {type: string}\n";
  auto loaded = load_text(doc, "web.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  std::size_t cuts = 0;
  std::size_t values = 0;
  std::vector<const Json*> stack{&loaded->operations.at(0).responses.at(0).content.at(0).schema};
  while (!stack.empty()) {
    const Json* value = stack.back();
    stack.pop_back();
    ++values;
    if (value->is_object() && value->contains("x-chaosplus-cycle")) ++cuts;
    if (value->is_structured()) {
      for (const auto& child : *value) stack.push_back(&child);
    }
  }
  EXPECT_GT(cuts, 0u);
  EXPECT_LT(values, 200000u);
}

TEST(Hostile, HugeExpansionOverAllSchemasIsRefused) {
  // Each operation's schema stays within its own budget, but a large example copied into every
  // expansion adds up: the document-wide bound speaks.
  std::string doc = "openapi: 3.0.3\npaths:\n";
  for (int i = 0; i < 200; ++i) {
    doc +=
        "  /p" + std::to_string(i) +
        ":\n    get:\n      responses:\n        '200':\n          description: x\n"
        "          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Big'}\n";
  }
  doc += "components:\n  schemas:\n    Big:\n      type: array\n      example: [";
  for (int i = 0; i < 10000; ++i) doc += std::string(i ? ", " : "") + "1";
  doc += "]\n";
  const std::string error = error_of(doc);
  EXPECT_NE(error.find("the schemas expand to more than 1000000 values once references are inlined, expected a "
                       "smaller document"),
            std::string::npos)
      << error.substr(0, 300);
}

TEST(Hostile, SelfReferenceAndLongChainsAreCutNotFollowed) {
  const std::string doc =
      "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: x\n"
      "          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Self'}\n"
      "components:\n  schemas:\n    Self:\n      $ref: '#/components/schemas/Self'\n";
  auto loaded = load_text(doc, "self.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->operations[0].responses[0].content[0].schema, Json({{"x-chaosplus-cycle", true}}));
}

TEST(Hostile, GarbageIsAnErrorNotACrash) {
  for (const std::string& text :
       {std::string(""), std::string("\0\1\2", 3), std::string("[1, 2"), std::string("{"), std::string(": : :"),
        std::string("- - -\n  - ]"), std::string("null"), std::string("\"text\""), std::string("openapi: [3]")}) {
    auto loaded = load_text(text, "garbage.yaml");
    EXPECT_FALSE(loaded.ok()) << text;
  }
}

}  // namespace
}  // namespace chaosplus::openapi
