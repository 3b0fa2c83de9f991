// RFC 3339 dates and times, checked by hand (valijson's check built a regex per value).
#include "openapi/formats.h"

#include <gtest/gtest.h>

namespace chaosplus::openapi {
namespace {

TEST(Formats, Dates) {
  EXPECT_TRUE(is_date("2024-02-29"));
  EXPECT_TRUE(is_date("2000-02-29"));
  EXPECT_FALSE(is_date("1900-02-29")) << "not a leap year";
  EXPECT_FALSE(is_date("2023-02-29"));
  EXPECT_FALSE(is_date("2024-04-31"));
  EXPECT_FALSE(is_date("2024-13-01"));
  EXPECT_FALSE(is_date("2024-00-10"));
  EXPECT_FALSE(is_date("2024-1-01"));
  EXPECT_FALSE(is_date("2024-01-01x"));
  EXPECT_FALSE(is_date(""));
  EXPECT_FALSE(is_date("x"));
}

TEST(Formats, TimesAndDateTimes) {
  EXPECT_TRUE(is_time("16:52:45Z"));
  EXPECT_TRUE(is_time("16:52:45.123+02:00"));
  EXPECT_TRUE(is_time("23:59:60z")) << "a leap second";
  EXPECT_FALSE(is_time("16:52:45")) << "RFC 3339 wants the offset";
  EXPECT_FALSE(is_time("24:00:00Z"));
  EXPECT_FALSE(is_time("16:52:45.Z"));
  EXPECT_FALSE(is_time("16:52:45+2:00"));
  EXPECT_FALSE(is_time("16:52:45+02:00 "));
  EXPECT_FALSE(is_time("16:5"));
  EXPECT_TRUE(is_date_time("2024-02-29T16:52:45Z"));
  EXPECT_TRUE(is_date_time("2024-02-29t16:52:45.5-05:30"));
  EXPECT_FALSE(is_date_time("2024-02-29 16:52:45Z"));
  EXPECT_FALSE(is_date_time("2024-02-30T16:52:45Z"));
  EXPECT_FALSE(is_date_time("2024-02-29T"));
}

TEST(Formats, FollowsTheSchemaToTheValue) {
  const Json schema = Json::parse(R"({"type": "array", "items": {"allOf": [{"type": "object"},
      {"properties": {"at": {"type": "string", "format": "date-time"}},
       "additionalProperties": {"type": "string", "format": "date"}}]}})");
  EXPECT_EQ(check_formats(schema, Json::parse(R"([{"at": "2024-02-29T16:52:45Z", "x": "2024-01-01"}])")), std::nullopt);
  EXPECT_EQ(check_formats(schema, Json::parse(R"([{}, {"at": "yesterday"}])")),
            "/1/at: expected a date and time (format date-time), found text 'yesterday'");
  EXPECT_EQ(check_formats(schema, Json::parse(R"([{"x": "2024-02-30"}])")),
            "/0/x: expected a date (format date), found text '2024-02-30'");
  // Other formats and other types are not checked.
  EXPECT_EQ(check_formats(Json::parse(R"({"format": "date"})"), Json(5)), std::nullopt);
  EXPECT_EQ(check_formats(Json::parse(R"({"format": "email"})"), Json("nope")), std::nullopt);
}

}  // namespace
}  // namespace chaosplus::openapi
