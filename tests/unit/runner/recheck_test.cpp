// The check after the reverts: tried again within its deadline, once without one.
#include "runner/recheck.h"

#include <gtest/gtest.h>

#include <thread>

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

TEST(Recheck, WithoutWithinItRunsOnce) {
  int calls = 0;
  Recheck r = recheck(
      [&]() -> Status {
        ++calls;
        return Error{"connection refused"};
      },
      std::nullopt, 100ms, [](Duration) {});
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(r.last.ok());
  EXPECT_FALSE(r.time_to_recover.has_value());
}

TEST(Recheck, RetriesUntilItPassesAndReportsTheTimeToRecover) {
  int calls = 0;
  Recheck r = recheck([&]() -> Status { return ++calls < 3 ? Status{Error{"connection refused"}} : ok_status(); }, 1h,
                      1ms, [](Duration) {});
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_TRUE(r.last.ok());
  ASSERT_TRUE(r.time_to_recover.has_value());
}

TEST(Recheck, GivesUpAtTheDeadline) {
  int calls = 0;
  Recheck r = recheck(
      [&]() -> Status {
        ++calls;
        return Error{"refused"};
      },
      // The pause between attempts is the behaviour under test: the deadline is real time.
      10ms, 1ms, [](Duration d) { std::this_thread::sleep_for(d); });
  // How many attempts fit in 10 ms depends on the machine; that it stops, failed, does not.
  EXPECT_GE(calls, 1);
  EXPECT_EQ(r.attempts, calls);
  EXPECT_FALSE(r.time_to_recover.has_value());
  EXPECT_FALSE(r.last.ok());
  EXPECT_EQ(r.last.error(), "refused");
}

}  // namespace
}  // namespace chaosplus::runner
