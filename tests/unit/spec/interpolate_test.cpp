#include "spec/interpolate.h"

#include <gtest/gtest.h>

#include <map>

namespace chaosplus::spec {
namespace {

EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Interpolate, LeavesTextWithoutReferencesUnchanged) {
  auto r = interpolate("plain $text {braces} $", env({}));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.text, "plain $text {braces} $");
}

TEST(Interpolate, ReplacesEveryReference) {
  auto r = interpolate("http://${HOST}:${PORT}/x", env({{"HOST", "127.0.0.1"}, {"PORT", "80"}}));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.text, "http://127.0.0.1:80/x");
}

TEST(Interpolate, UsesTheDefaultWhenTheVariableIsUnsetOrEmpty) {
  EXPECT_EQ(interpolate("${A:-5s}", env({})).text, "5s");
  EXPECT_EQ(interpolate("${A:-5s}", env({{"A", ""}})).text, "5s");
  EXPECT_EQ(interpolate("${A:-5s}", env({{"A", "9s"}})).text, "9s");
  EXPECT_EQ(interpolate("${A:-}", env({})).text, "");
}

TEST(Interpolate, KeepsAnEmptyValueWithoutDefault) {
  auto r = interpolate("[${A}]", env({{"A", ""}}));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.text, "[]");
}

TEST(Interpolate, ReadsDoubleDollarAsALiteralReference) {
  auto r = interpolate("echo $${HOME} ${X}", env({{"X", "1"}}));
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.text, "echo ${HOME} 1");
}

TEST(Interpolate, DoesNotExpandReferencesInsideValues) {
  auto r = interpolate("${A}", env({{"A", "${B}"}, {"B", "no"}}));
  EXPECT_EQ(r.text, "${B}");
}

TEST(Interpolate, ReportsEachUndefinedVariableWithItsOffset) {
  auto r = interpolate("a${ONE}b${TWO}", env({}));
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].offset, 1u);
  EXPECT_EQ(r.errors[1].offset, 8u);
  EXPECT_NE(r.errors[0].message.find("'ONE' is not set"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("${ONE:-value}"), std::string::npos);
}

TEST(Interpolate, RejectsBadNamesAndUnterminatedReferences) {
  auto bad = interpolate("${1X}", env({}));
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].message.find("not a variable reference"), std::string::npos);
  auto open = interpolate("x ${HOME", env({{"HOME", "/"}}));
  ASSERT_EQ(open.errors.size(), 1u);
  EXPECT_EQ(open.errors[0].offset, 2u);
  EXPECT_NE(open.errors[0].message.find("unterminated"), std::string::npos);
  EXPECT_EQ(interpolate("${}", env({})).errors.size(), 1u);
  EXPECT_EQ(interpolate("${A B}", env({})).errors.size(), 1u);
}

TEST(Interpolate, ReadsTheProcessEnvironment) {
  ::setenv("CHAOSPLUS_INTERPOLATE_TEST", "yes", 1);
  EXPECT_EQ(interpolate("${CHAOSPLUS_INTERPOLATE_TEST}", process_environment()).text, "yes");
  ::unsetenv("CHAOSPLUS_INTERPOLATE_TEST");
  EXPECT_EQ(interpolate("${CHAOSPLUS_INTERPOLATE_TEST}", process_environment()).errors.size(), 1u);
}

TEST(VariableAssignment, SplitsAtTheFirstEqualsSign) {
  auto v = parse_variable_assignment("DSN=postgres://u:p@127.0.0.1/db?a=b");
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->first, "DSN");
  EXPECT_EQ(v->second, "postgres://u:p@127.0.0.1/db?a=b");
  auto empty = parse_variable_assignment("EMPTY=");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_EQ(empty->second, "");
}

TEST(VariableAssignment, RejectsWhatIsNotKeyEqualsValue) {
  for (const char* bad : {"PORT", "=8080", "1PORT=8080", "MY-PORT=8080", ""}) {
    auto v = parse_variable_assignment(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_NE(v.error().find("expected KEY=VALUE"), std::string::npos) << v.error();
    EXPECT_NE(v.error().find("'" + std::string(bad) + "'"), std::string::npos) << v.error();
  }
}

TEST(VariableOverrides, TakePrecedenceOverTheEnvironmentAndFallBackToIt) {
  const EnvLookup lookup = with_overrides({{"PORT", "9090"}, {"EMPTY", ""}}, env({{"PORT", "80"}, {"HOST", "::1"}}));
  EXPECT_EQ(lookup("PORT"), "9090");
  EXPECT_EQ(lookup("HOST"), "::1");
  EXPECT_EQ(lookup("EMPTY"), "");
  EXPECT_EQ(lookup("MISSING"), std::nullopt);
  auto r = interpolate("${HOST}:${PORT} ${EMPTY:-d}", lookup);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.text, "::1:9090 d");
}

}  // namespace
}  // namespace chaosplus::spec