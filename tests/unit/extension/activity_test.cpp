// A phase activity run by an extension (extension/activity.h) through the door every activity uses
// (core/activity.h), against the shell test extension: its events reach the bus while it runs, and
// stop() (SIGTERM) makes it answer with its judgments.
#include "extension/activity.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "support/support.h"

namespace chaosplus::extension {
namespace {

using namespace std::chrono_literals;

spec::ExtensionCall activity_call(const std::string& mode) {
  spec::ExtensionCall call;
  call.extension = "misbehave";
  call.operation = "writes";
  call.command.name = "misbehave";
  call.command.argv = {testing::source_path("tests/data/extensions/misbehave.sh")};
  call.command.env = {{"MISBEHAVE", mode}};
  call.params_json = "{}";
  return call;
}

TEST(ExtensionActivity, PublishesItsEventsAndAnswersWithItsJudgmentsWhenStopped) {
  EventBus bus;
  std::mutex mutex;
  std::vector<Event> events;
  bus.subscribe([&](const Event& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
  });
  HaltSwitch halt;
  ExtensionActivityConfig config(activity_call("activity"));
  EXPECT_TRUE(config.judges());
  auto activity = config.make({"extension", "writer", "chaos", 60s, {}});
  ASSERT_TRUE(activity->start(bus, halt));
  ASSERT_TRUE(testing::wait_until([&] {
    std::lock_guard lock(mutex);
    return !events.empty();
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(events[0].type, "extension.event");
    EXPECT_EQ(events[0].text("event"), "activity.running");
    EXPECT_EQ(events[0].text("activity"), "writer");
    EXPECT_EQ(events[0].text("line"), "writes") << "the request named the extension's activity";
  }
  auto judgments = activity->finish();  // long before its 60 s: stopped by SIGTERM
  ASSERT_TRUE(judgments) << judgments.error();
  ASSERT_EQ(judgments->size(), 1u);
  EXPECT_EQ((*judgments)[0].metric, "writes.errors");
  EXPECT_TRUE((*judgments)[0].held);
  EXPECT_EQ((*judgments)[0].message, "no write failed");
}

TEST(ExtensionActivity, AnExtensionThatEndsWithoutAnsweringIsWhyItCouldNotRun) {
  EventBus bus;
  HaltSwitch halt;
  ExtensionActivityConfig config(activity_call("exit"));
  auto activity = config.make({"extension", "writer", "chaos", 60s, {}});
  ASSERT_TRUE(activity->start(bus, halt));
  auto judgments = activity->finish();
  ASSERT_FALSE(judgments);
  EXPECT_NE(judgments.error().find("exited before answering the run request"), std::string::npos) << judgments.error();
}

}  // namespace
}  // namespace chaosplus::extension
