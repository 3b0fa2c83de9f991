#include "core/event.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/event_bus.h"
#include "core/halt_switch.h"

namespace chaosplus {
namespace {

TEST(Event, SerializesToOneJsonObjectWithEscapes) {
  Event e("probe.result");
  e.with("probe", std::string("checkout \"ok\"\n"))
      .with("ok", true)
      .with("latency_ms", 12.5)
      .with("status", std::int64_t{200});
  std::string line = to_json_line(e);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["type"], "probe.result");
  EXPECT_EQ(parsed["probe"], "checkout \"ok\"\n");
  EXPECT_EQ(parsed["ok"], true);
  EXPECT_EQ(parsed["status"], 200);
  EXPECT_DOUBLE_EQ(parsed["latency_ms"].get<double>(), 12.5);
}

TEST(EventBus, DeliversToEverySubscriberInOrderAndStampsTime) {
  EventBus bus;
  std::vector<std::string> a, b;
  bus.subscribe([&](const Event& e) { a.push_back(e.type); });
  bus.subscribe([&](const Event& e) { b.push_back(e.type); });
  bus.publish(Event("one"));
  Event stamped = bus.publish(Event("two"));
  EXPECT_EQ(a, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(a, b);
  EXPECT_GT(stamped.wall.time_since_epoch().count(), 0);
  EXPECT_GE(stamped.elapsed.count(), 0);
}

// A guardrail publishes its trip from inside the delivery of the probe result that tripped it: every
// subscriber still sees the result first, then the trip, and nothing deadlocks.
TEST(EventBus, ASubscriberMayPublishAndEveryoneSeesTheSameOrder) {
  EventBus bus;
  std::vector<std::string> first, last;
  bus.subscribe([&](const Event& e) { first.push_back(e.type); });
  bus.subscribe([&](const Event& e) {
    if (e.type == "probe.result") bus.publish(Event("guardrail.tripped"));
  });
  bus.subscribe([&](const Event& e) { last.push_back(e.type); });
  bus.publish(Event("probe.result"));
  bus.publish(Event("run.halted"));
  const std::vector<std::string> want{"probe.result", "guardrail.tripped", "run.halted"};
  EXPECT_EQ(first, want);
  EXPECT_EQ(last, want);
}

TEST(HaltSwitch, FirstReasonWinsAndWaitsReturnAtOnce) {
  HaltSwitch halt;
  EXPECT_FALSE(halt.wait_for(std::chrono::milliseconds(1)));
  EXPECT_TRUE(halt.trigger("guardrail"));
  EXPECT_FALSE(halt.trigger("signal"));
  EXPECT_EQ(halt.reason(), "guardrail");
  EXPECT_TRUE(halt.wait_for(std::chrono::hours(1)));  // returns at once, or the test hangs
}

}  // namespace
}  // namespace chaosplus

namespace chaosplus {
namespace {

TEST(Event, KeepsEachValueItsOwnType) {
  Event e = Event("x").with("d", 12.5).with("i", 7).with("l", std::int64_t{1} << 40).with("b", false).with("s", "text");
  EXPECT_DOUBLE_EQ(std::get<double>(*e.find("d")), 12.5);
  EXPECT_EQ(std::get<std::int64_t>(*e.find("i")), 7);
  EXPECT_EQ(std::get<std::int64_t>(*e.find("l")), std::int64_t{1} << 40);
  EXPECT_FALSE(std::get<bool>(*e.find("b")));
  EXPECT_EQ(std::get<std::string>(*e.find("s")), "text");
}

}  // namespace
}  // namespace chaosplus
