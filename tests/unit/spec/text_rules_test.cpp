#include "spec/text_rules.h"

#include <gtest/gtest.h>

namespace chaosplus::spec {
namespace {

TEST(Printable, ShowsEveryControlCharacterEscapedAndKeepsTheRest) {
  EXPECT_EQ(printable(std::string("a\0b\tc\nd\x1b[31me\x7f", 14)), "a\\0b\\tc\\nd\\x1b[31me\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9 ok"), "caf\xc3\xa9 ok") << "UTF-8 stays as written";
}

TEST(JournalPattern, AcceptsFileNamesBelowTheRunsFolder) {
  for (const char* ok : {"{name}-{run}.jsonl", "{name}/{time}.jsonl", "./j.jsonl", "a..b.jsonl", "x/..y/j"}) {
    EXPECT_EQ(journal_pattern_problem(ok), std::nullopt) << ok;
  }
}

TEST(JournalPattern, RefusesWhatLeadsElsewhereOrIsNoFileName) {
  const std::pair<const char*, const char*> cases[] = {
      {"/etc/shadow", "found the absolute path '/etc/shadow'"},
      {"..", "found '..' in '..'"},
      {"../x.jsonl", "found '..'"},
      {"a/../../x", "found '..'"},
      {"a/..", "found '..'"},
      {"runs/", "found the folder 'runs/'"},
      {"{name}-{date}.jsonl", "found '{date}'"},
      {"{name", "found '{'"},
      {"a\tb", "found the control character \\t"},
      {"", "found empty text"},
  };
  for (const auto& [pattern, part] : cases) {
    auto problem = journal_pattern_problem(pattern);
    ASSERT_TRUE(problem.has_value()) << pattern;
    EXPECT_NE(problem->find(part), std::string::npos) << pattern << ": " << *problem;
  }
}

}  // namespace
}  // namespace chaosplus::spec
