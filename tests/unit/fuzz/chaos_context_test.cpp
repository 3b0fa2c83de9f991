#include "fuzz/chaos_context.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/event_bus.h"

namespace chaosplus::fuzz {
namespace {

Event fault(const std::string& type, const std::string& summary) {
  return Event(type).with("fault", "latency").with("target", "api").with("summary", summary);
}

TEST(ChaosContext, OutsideARunNothingIsActive) {
  ChaosContext context;
  EXPECT_EQ(context.phase(), "");
  EXPECT_FALSE(context.any_fault_active());
  EXPECT_TRUE(context.active_faults().empty());
  EXPECT_TRUE(context.target_pids().empty());
}

TEST(ChaosContext, FollowsPhasesFaultsAndTargetsOnTheBus) {
  EventBus bus;
  ChaosContext context;
  context.set_phase("warmup");
  context.set_target_pid("db", 7);
  context.attach(bus);
  EXPECT_EQ(context.phase(), "warmup");

  bus.publish(Event("target.started").with("target", "api").with("pid", 1234).with("log", "/tmp/x"));
  bus.publish(Event("target.attached").with("target", "auth").with("pid", 99));
  bus.publish(Event("phase.started").with("phase", "degraded").with("index", 1).with("duration", "30s"));
  EXPECT_EQ(context.phase(), "degraded");

  bus.publish(fault("fault.injected", "latency api 200ms"));
  bus.publish(fault("fault.injected", "kill auth"));
  EXPECT_TRUE(context.any_fault_active());
  EXPECT_EQ(context.active_faults(), (std::vector<std::string>{"latency api 200ms", "kill auth"}));

  bus.publish(fault("fault.reverted", "latency api 200ms").with("ok", true));
  EXPECT_EQ(context.active_faults(), (std::vector<std::string>{"kill auth"}));
  bus.publish(fault("fault.reverted", "kill auth").with("ok", false).with("error", "x"));
  EXPECT_FALSE(context.any_fault_active());

  bus.publish(Event("phase.ended").with("phase", "degraded").with("halted", false));
  EXPECT_EQ(context.phase(), "");
  EXPECT_EQ(context.target_pids(), (std::map<std::string, std::int64_t>{{"api", 1234}, {"auth", 99}, {"db", 7}}));

  // A restarted target (a new target.started) replaces its pid.
  bus.publish(Event("target.started").with("target", "api").with("pid", 4321));
  EXPECT_EQ(context.target_pids().at("api"), 4321);
  // Other events change nothing.
  bus.publish(Event("probe.result").with("phase", "x").with("summary", "y"));
  EXPECT_EQ(context.phase(), "");
  EXPECT_FALSE(context.any_fault_active());
}

TEST(ChaosContext, TwoFaultsWithOneSummaryAreTwoEntries) {
  EventBus bus;
  ChaosContext context;
  context.attach(bus);
  bus.publish(fault("fault.injected", "latency api 100ms"));
  bus.publish(fault("fault.injected", "latency api 100ms"));
  bus.publish(fault("fault.reverted", "latency api 100ms"));
  EXPECT_EQ(context.active_faults(), (std::vector<std::string>{"latency api 100ms"}));
}

TEST(ChaosContext, OutlivedByTheBusAndReadFromOtherThreads) {
  EventBus bus;
  {
    ChaosContext context;
    context.attach(bus);
    std::thread reader([&] {
      for (int i = 0; i < 1000; ++i) (void)context.active_faults();
    });
    for (int i = 0; i < 1000; ++i) {
      bus.publish(fault("fault.injected", "f" + std::to_string(i)));
      bus.publish(fault("fault.reverted", "f" + std::to_string(i)));
    }
    reader.join();
    EXPECT_FALSE(context.any_fault_active());
  }
  // The context is gone; its subscription still holds the shared state.
  bus.publish(fault("fault.injected", "after"));
  SUCCEED();
}

}  // namespace
}  // namespace chaosplus::fuzz
