#include "spec/suggest.h"

#include <gtest/gtest.h>

namespace chaosplus::spec {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("duration", "duration"), 0u);
  EXPECT_EQ(edit_distance("duraton", "duration"), 1u);
  EXPECT_EQ(edit_distance("duartion", "duration"), 1u) << "adjacent swap";
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(ClosestMatch, SuggestsAPlausibleTypo) {
  const std::vector<std::string_view> keys{"name", "duration", "faults"};
  EXPECT_EQ(closest_match("duraton", keys), "duration");
  EXPECT_EQ(closest_match("fault", keys), "faults");
  EXPECT_EQ(closest_match("Name", keys), "name") << "case is forgiven";
  const std::vector<std::string> targets{"api", "db"};
  EXPECT_EQ(closest_match("dbb", targets), "db");
}

TEST(ClosestMatch, StaysQuietWhenNothingIsClose) {
  const std::vector<std::string_view> keys{"name", "duration", "faults"};
  EXPECT_EQ(closest_match("load", keys), std::nullopt);
  EXPECT_EQ(closest_match("", keys), std::nullopt);
  EXPECT_EQ(closest_match(std::string(200, 'x'), keys), std::nullopt);
  const std::vector<std::string> none;
  EXPECT_EQ(closest_match("db", none), std::nullopt);
}

}  // namespace
}  // namespace chaosplus::spec
