// The order of reverts: faults that bring a process back wait until every other fault is off, and
// one back by itself is reverted without waiting for its grace to end.
#include "runner/revert_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

TEST(RevertPlan, KillIsRevertedAfterTheOlderPauseOfItsSupervisor) {
  std::vector<std::string> order;
  // Injected: pause supervisor, then kill child. Newest first: the kill, then the pause.
  std::vector<PendingRevert> faults;
  faults.push_back({true, [] { return true; }, 0s, [&] { order.push_back("kill"); }});
  faults.push_back({false, nullptr, 0s, [&] { order.push_back("pause"); }});
  revert_in_order(std::move(faults), [](Duration) {});
  EXPECT_EQ(order, (std::vector<std::string>{"pause", "kill"}));
}

TEST(RevertPlan, WaitsForAProcessComingBackByItselfWithinItsGrace) {
  std::vector<std::string> order;
  int looks = 0;
  std::vector<PendingRevert> faults;
  // Comes back on the third look; its grace is far longer, so it is reverted only once back.
  faults.push_back({true, [&] { return ++looks >= 3; }, 1h, [&] { order.push_back("kill a"); }});
  faults.push_back({false, nullptr, 0s, [&] { order.push_back("latency"); }});
  int waits = 0;
  revert_in_order(std::move(faults), [&](Duration) { ++waits; });
  EXPECT_EQ(order, (std::vector<std::string>{"latency", "kill a"}));
  EXPECT_EQ(looks, 3);
  EXPECT_EQ(waits, 2);
}

TEST(RevertPlan, OneWithoutGraceIsRevertedAtOnceEvenWhenNotBack) {
  std::vector<std::string> order;
  std::vector<PendingRevert> faults;
  faults.push_back({true, [] { return false; }, 0s, [&] { order.push_back("restart b"); }});
  int waits = 0;
  revert_in_order(std::move(faults), [&](Duration) { ++waits; });
  EXPECT_EQ(order, (std::vector<std::string>{"restart b"}));
  EXPECT_EQ(waits, 0);
}

}  // namespace
}  // namespace chaosplus::runner
