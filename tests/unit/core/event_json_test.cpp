#include "core/event_json.h"

#include <gtest/gtest.h>

namespace chaosplus {
namespace {

TEST(EventJson, ReadsBackTypeWallElapsedAndFieldsInOrder) {
  Event e("fault.injected");
  e.wall = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'765'000'000'123));
  e.elapsed = std::chrono::milliseconds(2500);
  e.with("zeta", "last written first").with("count", 3).with("ratio", 0.25).with("ok", true);
  auto back = parse_event_json(to_json_line(e));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->type, e.type);
  EXPECT_EQ(back->wall, e.wall);
  EXPECT_EQ(back->elapsed, e.elapsed);
  EXPECT_EQ(back->fields, e.fields);
}

TEST(EventJson, ParsesWallTimesWithAndWithoutMilliseconds) {
  auto with = parse_wall_time("2026-12-06T16:17:00.125Z");
  ASSERT_TRUE(with.has_value());
  EXPECT_EQ(format_wall_time(*with), "2026-12-06T16:17:00.125Z");
  auto without = parse_wall_time("2026-12-06T16:17:00Z");
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(format_wall_time(*without), "2026-12-06T16:17:00.000Z");
  EXPECT_FALSE(parse_wall_time("yesterday").has_value());
  EXPECT_FALSE(parse_wall_time("2026-12-06T16:17:00").has_value());  // no zone: not ours
}

TEST(EventJson, RefusesWhatIsNotAnEvent) {
  EXPECT_FALSE(parse_event_json("not json").ok());
  EXPECT_FALSE(parse_event_json(R"({"elapsed_ms":1})").ok());
}

}  // namespace
}  // namespace chaosplus
