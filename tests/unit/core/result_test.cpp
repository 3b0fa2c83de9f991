#include "core/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace chaosplus {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error{std::string("'") + c + "' is not a digit", ErrorCode::invalid_argument};
  return c - '0';
}

// Passes an error on with its code, as callers one level up do.
Result<std::string> twice(char c) {
  auto digit = parse_digit(c);
  if (!digit) return digit.failure();
  return std::to_string(*digit * 2);
}

TEST(Result, AValueIsOk) {
  auto r = parse_digit('7');
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
}

TEST(Result, AnErrorKeepsItsMessageAndCode) {
  auto r = parse_digit('x');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "'x' is not a digit");
  EXPECT_EQ(r.code(), ErrorCode::invalid_argument);
}

TEST(Result, AnErrorPassedOnKeepsItsCode) {
  auto r = twice('x');
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(r.failure().message, "'x' is not a digit");
  EXPECT_EQ(*twice('4'), "8");
}

TEST(Result, AnErrorWithoutACodeIsUnknown) {
  Status s = Error{"it failed"};
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::unknown);
  EXPECT_EQ(s.error(), "it failed");
}

TEST(Result, AMoveOnlyValueCanBeTakenOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> taken = std::move(r).value();
  EXPECT_EQ(*taken, 3);
}

}  // namespace
}  // namespace chaosplus
