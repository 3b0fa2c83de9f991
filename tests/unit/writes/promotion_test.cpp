#include "writes/promotion.h"

#include <gtest/gtest.h>

namespace chaosplus::writes {
namespace {

using std::chrono::milliseconds;

Clock::time_point at(int ms) { return Clock::time_point{} + milliseconds(ms); }

PrimarySample sample(const char* api, int ms, bool primary) { return PrimarySample{api, at(ms), primary}; }

TEST(PromotedAfter, IsTheFirstOtherMemberAnsweringPrimaryAfterTheFault) {
  const std::vector<PrimarySample> s{
      sample("n1", 900, true),  sample("n2", 900, false), sample("n1", 1100, false),
      sample("n2", 1100, false), sample("n2", 2500, true), sample("n2", 2600, true),
  };
  EXPECT_EQ(promoted_after(s, at(1000)), at(2500));
}

TEST(PromotedAfter, TheOldLeaderStillAnsweringRightAfterTheFaultIsNoPromotion) {
  // Patroni has not noticed yet: n1 answers /primary twice after the fault, then n2 takes over.
  const std::vector<PrimarySample> s{sample("n1", 900, true), sample("n1", 1050, true), sample("n1", 1150, true),
                                     sample("n2", 1200, false), sample("n2", 3000, true)};
  EXPECT_EQ(promoted_after(s, at(1000)), at(3000));
}

TEST(PromotedAfter, TheSameMemberBackAfterAGapIsAPromotion) {
  // n1 lost the lock (no answer as primary) and won it back.
  const std::vector<PrimarySample> s{sample("n1", 900, true), sample("n1", 1050, true), sample("n1", 1500, false),
                                     sample("n1", 4000, true)};
  EXPECT_EQ(promoted_after(s, at(1000)), at(4000));
}

TEST(PromotedAfter, WithNoPrimaryBeforeTheFaultTheFirstAfterItCounts) {
  const std::vector<PrimarySample> s{sample("n1", 900, false), sample("n1", 1200, true)};
  EXPECT_EQ(promoted_after(s, at(1000)), at(1200));
}

TEST(PromotedAfter, UnsetWhenNoNewPrimaryWasSeen) {
  EXPECT_FALSE(promoted_after({}, at(1000)));
  const std::vector<PrimarySample> s{sample("n1", 900, true), sample("n1", 1100, true), sample("n2", 1100, false)};
  EXPECT_FALSE(promoted_after(s, at(1000)));
}

TEST(PromotedAfter, SamplesMayComeInAnyOrder) {
  const std::vector<PrimarySample> s{sample("n2", 2500, true), sample("n1", 1100, false), sample("n1", 900, true),
                                     sample("n2", 2000, true)};
  EXPECT_EQ(promoted_after(s, at(1000)), at(2000));
}

}  // namespace
}  // namespace chaosplus::writes
