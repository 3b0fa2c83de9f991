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

TEST(Hostile, AliasBombIsRefused) {
  std::string bomb = "openapi: 3.0.3\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" +
            repeat("*a" + std::to_string(i - 1) + ", ", 9) + "*a" + std::to_string(i - 1) + "]\n";
  }
  const std::string error = error_of(bomb);
  EXPECT_NE(error.find("more than 2000000 values (YAML aliases expanding?)"), std::string::npos) << error;
}

TEST(Hostile, ExponentialReferencesAreRefused) {
  // S0 has ten properties referring to S1, which has ten referring to S2...: 10^40 schemas inlined
  // (references nested deeper than kMaxRefChain are cut, which still leaves 10^12).
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
  const std::string error = error_of(doc);
  // Either bound may speak first; both say what was expected.
  const bool told =
      error.find("values once references are inlined, expected a smaller document") != std::string::npos ||
      error.find("levels deep once references are inlined") != std::string::npos;
  EXPECT_TRUE(told) << error;
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
