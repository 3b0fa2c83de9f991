#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "load/report.h"

namespace chaosplus::load {
namespace {

const FieldValue* field(const Event& e, const std::string& key) {
  auto it = std::find_if(e.fields.begin(), e.fields.end(), [&](const auto& f) { return f.first == key; });
  return it == e.fields.end() ? nullptr : &it->second;
}

TEST(TickEvent, CarriesErrorsByKindAndStatusCodesThatOccurred) {
  Tick t;
  t.at_s = 3;
  t.length_s = 1;
  t.counters.requests = 17;
  t.counters.errors[static_cast<std::size_t>(ErrorKind::timeout)] = 3;
  t.counters.status[200] = 5;
  t.counters.status[503] = 12;
  const Event e = tick_event(t);
  EXPECT_EQ(e.type, "load.tick");
  ASSERT_NE(field(e, "errors.timeout"), nullptr);
  EXPECT_EQ(*field(e, "errors.timeout"), FieldValue{std::int64_t{3}});
  ASSERT_NE(field(e, "status.503"), nullptr);
  EXPECT_EQ(*field(e, "status.503"), FieldValue{std::int64_t{12}});
  EXPECT_EQ(*field(e, "status.200"), FieldValue{std::int64_t{5}});
  EXPECT_EQ(field(e, "errors.connect"), nullptr) << "kinds that did not occur are left out";
  EXPECT_EQ(field(e, "status.404"), nullptr);
  EXPECT_EQ(*field(e, "errors"), FieldValue{std::int64_t{3}});
  EXPECT_EQ(*field(e, "status_4xx_5xx"), FieldValue{std::int64_t{12}});
}

}  // namespace
}  // namespace chaosplus::load
