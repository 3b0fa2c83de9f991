#include "spec/yaml_tree.h"

#include <gtest/gtest.h>

namespace chaosplus::spec {
namespace {

using Kind = YamlNode::Kind;

YamlDocument read(std::string_view text) {
  return read_yaml(text, [](std::string_view name) -> std::optional<std::string> {
    if (name == "SEVEN") return "7";
    return std::nullopt;
  });
}

TEST(ReadYaml, InfersTypesOfPlainScalarsOnly) {
  auto doc = read(
      "a: 10\nb: \"10\"\nc: 1.5\nd: true\ne: yes\nf: ~\ng: text\nh: -3\ni: 1e3\nj: 99999999999999999999\nk: '1.5'\n");
  ASSERT_TRUE(doc.root);
  auto kind = [&](const char* key) { return doc.root->find(key)->value.kind; };
  EXPECT_EQ(kind("a"), Kind::integer);
  EXPECT_EQ(kind("b"), Kind::string);
  EXPECT_EQ(kind("c"), Kind::number);
  EXPECT_EQ(kind("d"), Kind::boolean);
  EXPECT_EQ(kind("e"), Kind::string) << "YAML 1.2: yes is text";
  EXPECT_EQ(kind("f"), Kind::null);
  EXPECT_EQ(kind("g"), Kind::string);
  EXPECT_EQ(kind("h"), Kind::integer);
  EXPECT_EQ(kind("i"), Kind::number);
  EXPECT_EQ(kind("j"), Kind::number) << "too large for 64 bits";
  EXPECT_EQ(kind("k"), Kind::string);
}

TEST(ReadYaml, GivesOneBasedMarksAndJsonPointers) {
  auto doc = read("top:\n  list:\n    - x\n    - {a/b: 1, c~d: 2}\n");
  ASSERT_TRUE(doc.root);
  const YamlNode& list = doc.root->find("top")->value.find("list")->value;
  EXPECT_EQ(list.pointer, "/top/list");
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0].mark.line, 3);
  EXPECT_EQ(list.items[0].mark.column, 7);
  const YamlEntry* slash = list.items[1].find("a/b");
  ASSERT_NE(slash, nullptr);
  EXPECT_EQ(slash->value.pointer, "/top/list/1/a~1b");
  EXPECT_EQ(slash->key_mark.line, 4);
  EXPECT_EQ(slash->key_mark.column, 8);
  EXPECT_EQ(list.items[1].find("c~d")->value.pointer, "/top/list/1/c~0d");
}

TEST(ReadYaml, PlacesAnEmptyValueAtItsKey) {
  auto doc = read("a:\nb: 1\n");
  ASSERT_TRUE(doc.root);
  const YamlNode& a = doc.root->find("a")->value;
  EXPECT_EQ(a.kind, Kind::null);
  EXPECT_EQ(a.mark.line, 1);
}

TEST(ReadYaml, ReportsDuplicateKeysAndKeepsTheFirst) {
  auto doc = read("a: 1\nb: 2\na: 3\n");
  ASSERT_EQ(doc.issues.size(), 1u);
  EXPECT_EQ(doc.issues[0].mark.line, 3);
  EXPECT_EQ(doc.issues[0].mark.column, 1);
  EXPECT_NE(doc.issues[0].message.find("duplicate key 'a' (first at line 1)"), std::string::npos);
  EXPECT_EQ(doc.root->find("a")->value.text, "1");
  EXPECT_EQ(doc.root->entries.size(), 2u);
}

TEST(ReadYaml, ReportsNonTextKeys) {
  auto doc = read("? [a, b]\n: 1\n");
  ASSERT_EQ(doc.issues.size(), 1u);
  EXPECT_NE(doc.issues[0].message.find("a list as a key"), std::string::npos);
}

TEST(ReadYaml, ReportsSyntaxErrorsWithYamlCppPosition) {
  auto doc = read("a: [1, 2\nb: 3\n");
  EXPECT_FALSE(doc.root);
  ASSERT_EQ(doc.issues.size(), 1u);
  EXPECT_EQ(doc.issues[0].mark.line, 2);
  EXPECT_NE(doc.issues[0].message.find("invalid YAML"), std::string::npos);
}

TEST(ReadYaml, InterpolatesValuesBeforeInferringTheirType) {
  auto doc = read("n: ${SEVEN}\ns: \"${SEVEN}\"\n${SEVEN}: key\n");
  ASSERT_TRUE(doc.root);
  EXPECT_TRUE(doc.issues.empty());
  EXPECT_EQ(doc.root->find("n")->value.kind, Kind::integer);
  EXPECT_EQ(doc.root->find("n")->value.text, "7");
  EXPECT_EQ(doc.root->find("s")->value.kind, Kind::string);
  EXPECT_NE(doc.root->find("${SEVEN}"), nullptr) << "keys are not interpolated";
}

TEST(ReadYaml, PointsAnUndefinedVariableAtItsColumnInAPlainScalar) {
  auto doc = read("url: http://${NOPE}/x\n");
  ASSERT_EQ(doc.issues.size(), 1u);
  EXPECT_EQ(doc.issues[0].mark.line, 1);
  EXPECT_EQ(doc.issues[0].mark.column, 13);
  EXPECT_EQ(doc.issues[0].pointer, "/url");
}

TEST(ReadYaml, LimitsNestingDepth) {
  std::string deep;
  for (int i = 0; i < kMaxDepth + 10; ++i) deep += "[";
  for (int i = 0; i < kMaxDepth + 10; ++i) deep += "]";
  auto doc = read(deep);
  ASSERT_FALSE(doc.issues.empty());
  EXPECT_NE(doc.issues[0].message.find("nested more than"), std::string::npos);
}

TEST(ReadYaml, LimitsTheExpansionOfAliases) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  auto doc = read(bomb);
  ASSERT_FALSE(doc.issues.empty());
  EXPECT_NE(doc.issues.back().message.find("more than 100000 values"), std::string::npos);
}

TEST(ReadYaml, LimitsTheLengthOfAValue) {
  auto doc = read("a: " + std::string(kMaxScalarLength + 1, 'x') + "\n");
  EXPECT_TRUE(doc.oversized_scalar);
  ASSERT_EQ(doc.issues.size(), 1u);
  EXPECT_NE(doc.issues[0].message.find("expected at most 4096"), std::string::npos);
}

TEST(DescribeFound, NamesWhatWasFoundForMessages) {
  YamlNode n;
  EXPECT_EQ(describe_found(n), "nothing");
  n.kind = Kind::string;
  n.text = "abc";
  EXPECT_EQ(describe_found(n), "text 'abc'");
  n.text = std::string(50, 'x');
  EXPECT_EQ(describe_found(n), "text '" + std::string(40, 'x') + "...'");
  n.kind = Kind::integer;
  n.text = "10";
  EXPECT_EQ(describe_found(n), "the number 10");
  n.kind = Kind::sequence;
  EXPECT_EQ(describe_found(n), "a list");
  n.kind = Kind::map;
  EXPECT_EQ(describe_found(n), "a map");
}

}  // namespace
}  // namespace chaosplus::spec
