// Slips of the timeline: late past the margin is a slip, within it is not; the verdict's summary
// names the worst.
#include "runner/timeline_slip.h"

#include <gtest/gtest.h>

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;
using Instant = SlipTracker::Instant;

TEST(SlipTracker, LateWithinTheMarginIsNoSlip) {
  SlipTracker t(250ms);
  const Instant due{1s};
  EXPECT_FALSE(t.check("p", "inject of pause a", due, due + 250ms).has_value());
  EXPECT_FALSE(t.check("p", "inject of pause a", due, due - 10ms).has_value());
  EXPECT_TRUE(t.slips().empty());
  EXPECT_EQ(t.summary(), "");
}

TEST(SlipTracker, LatePastTheMarginIsASlipAndTheSummaryNamesTheWorst) {
  SlipTracker t(250ms);
  const Instant due{1s};
  auto first = t.check("chaos", "revert of pause a", due, due + 30s);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->late, Duration(30s));
  EXPECT_EQ(first->where, "revert of pause a");
  ASSERT_TRUE(t.check("chaos", "end of phase", due, due + 400ms).has_value());
  EXPECT_EQ(t.slips().size(), 2u);
  EXPECT_EQ(t.summary(),
            "the timeline slipped 2 time(s) by more than 250ms, at most 30s late (revert of pause a in phase chaos): "
            "the runner was late (frozen, starved of CPU, or held up by a slow inject or revert), so faults stayed on "
            "and phases lasted longer than written");
}

}  // namespace
}  // namespace chaosplus::runner
