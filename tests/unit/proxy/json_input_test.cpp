#include "proxy/json_input.h"

#include <gtest/gtest.h>

#include <string>

namespace chaosplus::proxy {
namespace {

using nlohmann::json;

std::string nested(std::size_t depth, char open, char close) {
  std::string text(depth, open);
  if (open == '{') {
    // {"a":{"a":...{}...}}: objects need keys to be valid JSON at all.
    text.clear();
    for (std::size_t i = 0; i + 1 < depth; ++i) text += "{\"a\":";
    text += "{}";
    text += std::string(depth - 1, close);
    return text;
  }
  return text + std::string(depth, close);
}

TEST(JsonNesting, CountsArraysAndObjectsButNotBracketsInStrings) {
  EXPECT_EQ(json_nesting("1", 10), 0u);
  EXPECT_EQ(json_nesting("[[1],[2,[3]]]", 10), 3u);
  EXPECT_EQ(json_nesting(R"({"a":"[[[[{{{{","b":{"c":[]}})", 10), 3u);
  EXPECT_EQ(json_nesting(R"(["\"[[[", ["x\\"], "]]]"])", 10), 2u);  // escaped quotes do not end strings
}

TEST(JsonNesting, StopsCountingPastTheLimit) { EXPECT_EQ(json_nesting(std::string(1'000'000, '['), 32), 33u); }

TEST(ParseJson, AcceptsNestingUpToTheLimit) {
  auto parsed = parse_json(nested(kMaxJsonDepth, '[', ']'));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed->is_array());
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth, '{', '}')).ok());
}

TEST(ParseJson, RefusesAMillionLevelsOfArraysOrObjectsWithAReason) {
  for (const auto& text : {std::string(1'000'000, '['), nested(1'000'000, '[', ']'), nested(1'000'000, '{', '}'),
                           std::string(1'000'000, '{')}) {
    auto parsed = parse_json(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().find("nested deeper than 32 levels"), std::string::npos) << parsed.error();
  }
  auto one_too_deep = parse_json(nested(kMaxJsonDepth + 1, '[', ']'));
  ASSERT_FALSE(one_too_deep.ok());
}

TEST(ParseJson, ANumberBeyondADoubleIsAnErrorThatNamesItsField) {
  auto top = parse_json(R"({"name":"t","toxicity":1e309})");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.error().find("field 'toxicity'"), std::string::npos) << top.error();
  EXPECT_NE(top.error().find("1e309"), std::string::npos) << top.error();

  auto inner = parse_json(R"({"type":"latency","attributes":{"jitter":1,"latency":-1e400}})");
  ASSERT_FALSE(inner.ok());
  EXPECT_NE(inner.error().find("field 'attributes.latency'"), std::string::npos) << inner.error();

  auto listed = parse_json(R"([{"name":"a"},{"name":"b","enabled":1e999}])");
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.error().find("field 'enabled'"), std::string::npos) << listed.error();
}

TEST(ParseJson, SyntaxErrorsSayWhereAndStayShort) {
  auto broken = parse_json("{\"name\": ");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().find("invalid JSON"), std::string::npos) << broken.error();
  EXPECT_NE(broken.error().find("column"), std::string::npos) << broken.error();
  EXPECT_EQ(broken.error().find("[json.exception"), std::string::npos) << broken.error();

  auto long_token = parse_json("[\"" + std::string(100'000, 'x') + "\x01\"]");  // control character in a string
  ASSERT_FALSE(long_token.ok());
  EXPECT_LT(long_token.error().size(), 400u) << long_token.error().size();
}

TEST(Describe, ShowsScalarsAndOnlyTheSizeOfContainers) {
  EXPECT_EQ(describe(json(nullptr)), "null");
  EXPECT_EQ(describe(json(true)), "true");
  EXPECT_EQ(describe(json(-3)), "-3");
  EXPECT_EQ(describe(json(0.5)), "0.5");
  EXPECT_EQ(describe(json("yes")), "\"yes\"");
  EXPECT_EQ(describe(json::array({1, 2, 3})), "an array of 3 items");
  EXPECT_EQ(describe(json{{"a", 1}}), "an object with 1 fields");
}

TEST(Describe, CutsLongStringsEvenInsideAMultiByteCharacter) {
  std::string text(63, 'a');
  text += "\xc3\xa9";  // é straddles the cut at 64 bytes
  text += std::string(1000, 'b');
  std::string shown = describe(json(text));
  EXPECT_LT(shown.size(), 80u) << shown;
  EXPECT_TRUE(shown.ends_with("...\"")) << shown;
}

}  // namespace
}  // namespace chaosplus::proxy
