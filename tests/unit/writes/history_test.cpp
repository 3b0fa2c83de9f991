#include "writes/history.h"

#include <gtest/gtest.h>

namespace chaosplus::writes {
namespace {

using std::chrono::milliseconds;

const Clock::time_point t0{};  // every history starts at the clock's epoch: times below are offsets

Clock::time_point at(int ms) { return t0 + milliseconds(ms); }

Attempt attempt(std::int64_t id, int invoked_ms, int completed_ms, Outcome outcome, std::string node = "n1",
                int client = 0) {
  Attempt a;
  a.id = id;
  a.client = client;
  a.invoked = at(invoked_ms);
  a.completed = at(completed_ms);
  a.outcome = outcome;
  a.node = std::move(node);
  if (outcome != Outcome::ok) a.error = "x";
  return a;
}

Attempt ok(std::int64_t id, int invoked_ms, int completed_ms, std::string node = "n1", int client = 0) {
  return attempt(id, invoked_ms, completed_ms, Outcome::ok, std::move(node), client);
}

FaultMark fault(int injected_ms, std::optional<int> promoted_ms = std::nullopt) {
  FaultMark f{"kill db", at(injected_ms), std::nullopt};
  if (promoted_ms) f.promoted = at(*promoted_ms);
  return f;
}

TEST(Analyze, AnEmptyHistoryHasNothing) {
  const Analysis r = analyze({}, {}, {});
  EXPECT_EQ(r.attempted, 0);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.unexpected, 0);
  EXPECT_FALSE(r.rto);
  EXPECT_FALSE(r.promotion);
  EXPECT_FALSE(r.reconnection);
  EXPECT_TRUE(r.split_brain.empty());
  EXPECT_EQ(r.rpo_span, Duration{0});
}

TEST(Analyze, CountsOutcomesOfEveryAttempt) {
  const std::vector<Attempt> h{ok(1, 0, 5), attempt(2, 10, 15, Outcome::failed), attempt(3, 20, 2020, Outcome::unknown),
                               ok(4, 30, 35)};
  const Analysis r = analyze(h, {1, 4}, {});
  EXPECT_EQ(r.attempted, 4);
  EXPECT_EQ(r.acknowledged, 2);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.unknown, 1);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.unexpected, 0);
  EXPECT_EQ(r.unknown_committed, 0);
  EXPECT_EQ(r.failed_committed, 0);
}

TEST(Analyze, AnAcknowledgedWriteMissingIsLostAndRpoSpansTheLostAcknowledgements) {
  const std::vector<Attempt> h{ok(1, 0, 5), ok(2, 10, 15), ok(3, 20, 40), ok(4, 30, 100), ok(5, 110, 120)};
  const Analysis r = analyze(h, {1, 5}, {});
  EXPECT_EQ(r.lost, 3);
  // In acknowledgement order, not id order.
  EXPECT_EQ(r.lost_ids, (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(r.rpo_span, milliseconds(85));  // acknowledged at 15 and at 100
}

TEST(Analyze, OneLostWriteHasAZeroSpan) {
  const Analysis r = analyze({ok(1, 0, 5), ok(2, 10, 15)}, {2}, {});
  EXPECT_EQ(r.lost, 1);
  EXPECT_EQ(r.lost_ids, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(r.rpo_span, Duration{0});
}

TEST(Analyze, APresentIdNeverAttemptedIsUnexpected) {
  const Analysis r = analyze({ok(1, 0, 5)}, {1, 77, 66}, {});
  EXPECT_EQ(r.unexpected, 2);
  EXPECT_EQ(r.unexpected_ids, (std::vector<std::int64_t>{66, 77}));
  EXPECT_EQ(r.lost, 0);
}

TEST(Analyze, AnUnknownWriteThatCommittedIsNeitherLostNorUnexpected) {
  const std::vector<Attempt> h{attempt(1, 0, 2000, Outcome::unknown), attempt(2, 0, 2000, Outcome::unknown)};
  const Analysis r = analyze(h, {1}, {});
  EXPECT_EQ(r.unknown, 2);
  EXPECT_EQ(r.unknown_committed, 1);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.unexpected, 0);
}

TEST(Analyze, ADefinitelyFailedWriteThatCommittedIsCountedApart) {
  const Analysis r = analyze({attempt(1, 0, 5, Outcome::failed)}, {1}, {});
  EXPECT_EQ(r.failed_committed, 1);
  EXPECT_EQ(r.unexpected, 0);
  EXPECT_EQ(r.unknown_committed, 0);
}

TEST(Analyze, DuplicatesCountEachIdOnce) {
  // The same id attempted twice (unknown, then acknowledged) and read back twice.
  const std::vector<Attempt> h{attempt(1, 0, 2000, Outcome::unknown), ok(1, 2000, 2005), ok(2, 0, 5), ok(2, 10, 15)};
  const Analysis present_twice = analyze(h, {1, 1, 2, 2, 9, 9}, {});
  EXPECT_EQ(present_twice.attempted, 4);
  EXPECT_EQ(present_twice.acknowledged, 3);
  EXPECT_EQ(present_twice.lost, 0);
  EXPECT_EQ(present_twice.unknown_committed, 0);  // it was acknowledged in the end
  EXPECT_EQ(present_twice.unexpected, 1);
  EXPECT_EQ(present_twice.unexpected_ids, (std::vector<std::int64_t>{9}));
  const Analysis missing = analyze(h, {}, {});
  EXPECT_EQ(missing.lost, 2);  // ids, not acknowledgements
  EXPECT_EQ(missing.rpo_span, milliseconds(2000));  // first acks at 5 (id 2) and 2005 (id 1)
}

TEST(Analyze, NoFaultNoRto) {
  const Analysis r = analyze({ok(1, 0, 5), ok(2, 10, 15)}, {1, 2}, {});
  EXPECT_FALSE(r.rto);
  EXPECT_TRUE(r.rto_fault.empty());
}

TEST(Analyze, RtoRunsFromTheFaultToTheFirstAcknowledgedWriteInvokedAfterIt) {
  const std::vector<Attempt> h{
      ok(1, 0, 5),
      ok(2, 990, 1500),                            // in flight at the fault: does not count
      attempt(3, 1010, 3010, Outcome::unknown),    // timed out
      attempt(4, 3020, 3021, Outcome::failed, ""), // no connection
      ok(5, 4000, 4008, "n2"),
      ok(6, 4100, 4105, "n2"),
  };
  const Analysis r = analyze(h, {1, 2, 5, 6}, {fault(1000, 3500)});
  ASSERT_TRUE(r.rto);
  EXPECT_EQ(*r.rto, milliseconds(3008));
  EXPECT_EQ(r.rto_fault, "kill db");
  ASSERT_TRUE(r.promotion);
  EXPECT_EQ(*r.promotion, milliseconds(2500));
  ASSERT_TRUE(r.reconnection);
  EXPECT_EQ(*r.reconnection, milliseconds(508));
}

TEST(Analyze, RtoTakesTheEarliestCompletionWhenCompletionsComeOutOfOrder) {
  const std::vector<Attempt> h{ok(1, 1100, 5000), ok(2, 1200, 1300), ok(3, 1250, 1260)};
  const Analysis r = analyze(h, {1, 2, 3}, {fault(1000)});
  ASSERT_TRUE(r.rto);
  EXPECT_EQ(*r.rto, milliseconds(260));
  EXPECT_FALSE(r.promotion);
  EXPECT_FALSE(r.reconnection);
}

TEST(Analyze, AFaultThatDidNotDisturbWritesHasTheGapToTheNextAcknowledgement) {
  std::vector<Attempt> h;
  for (int i = 0; i < 20; ++i) h.push_back(ok(i, i * 10, i * 10 + 2));
  const Analysis r = analyze(h, {}, {fault(95)});
  ASSERT_TRUE(r.rto);
  EXPECT_EQ(*r.rto, milliseconds(7));  // invoked at 100, acknowledged at 102
}

TEST(Analyze, NoSuccessAfterTheFaultLeavesRtoUnsetButKeepsThePromotion) {
  const std::vector<Attempt> h{ok(1, 0, 5), attempt(2, 1010, 3010, Outcome::unknown),
                               attempt(3, 3020, 3022, Outcome::failed, "")};
  const Analysis r = analyze(h, {1}, {fault(1000, 2000)});
  EXPECT_FALSE(r.rto);
  EXPECT_EQ(r.rto_fault, "kill db");
  ASSERT_TRUE(r.promotion);
  EXPECT_EQ(*r.promotion, milliseconds(1000));
  EXPECT_FALSE(r.reconnection);
}

TEST(Analyze, RtoIsOfTheFirstFaultInjectedWhateverTheOrderGiven) {
  const std::vector<Attempt> h{ok(1, 1500, 1510), ok(2, 5100, 5120)};
  const Analysis r = analyze(h, {1, 2}, {FaultMark{"second", at(5000), {}}, FaultMark{"first", at(1000), {}}});
  EXPECT_EQ(r.rto_fault, "first");
  ASSERT_TRUE(r.rto);
  EXPECT_EQ(*r.rto, milliseconds(510));
}

TEST(Analyze, APromotionAfterTheFirstAcknowledgementLeavesNoReconnection) {
  const Analysis r = analyze({ok(1, 1010, 1020)}, {1}, {fault(1000, 4000)});
  ASSERT_TRUE(r.rto);
  EXPECT_EQ(*r.rto, milliseconds(20));
  EXPECT_EQ(*r.promotion, milliseconds(3000));
  ASSERT_TRUE(r.reconnection);
  EXPECT_EQ(*r.reconnection, Duration{0});
}

// Two clients write to n1; n1 fails over to n2, later n2 switches back to n1. n1's acks before
// the failover and after the switch back do not overlap n2's acks in between.
TEST(SplitBrain, FailoverAndSwitchBackAreNotSplitBrain) {
  std::vector<Attempt> h;
  std::int64_t id = 0;
  for (int t = 0; t < 1000; t += 10) h.push_back(ok(++id, t, t + 3, "n1", t / 10 % 2));
  // An ack in flight when n1 failed, delivered late, after n2's first acks.
  h.push_back(ok(++id, 995, 2105, "n1", 1));
  h.push_back(attempt(++id, 1000, 1001, Outcome::failed, "n1", 0));
  h.push_back(attempt(++id, 1002, 3002, Outcome::unknown, "n1", 1));
  for (int t = 2000; t < 3000; t += 10) h.push_back(ok(++id, t, t + 3, "n2", t / 10 % 2));
  h.push_back(attempt(++id, 3000, 3001, Outcome::failed, "n2", 0));
  h.push_back(attempt(++id, 3005, 3006, Outcome::failed, "n2", 1));
  for (int t = 3500; t < 4500; t += 10) h.push_back(ok(++id, t, t + 3, "n1", t / 10 % 2));
  // And back to n2 once more.
  h.push_back(attempt(++id, 4500, 4501, Outcome::failed, "n1", 0));
  h.push_back(attempt(++id, 4500, 4502, Outcome::failed, "n1", 1));
  for (int t = 5000; t < 6000; t += 10) h.push_back(ok(++id, t, t + 3, "n2", t / 10 % 2));
  const Analysis r = analyze(h, {}, {});
  EXPECT_TRUE(r.split_brain.empty()) << r.split_brain.front();
}

TEST(SplitBrain, TwoNodesAcknowledgingInTheSamePeriodAreSplitBrain) {
  std::vector<Attempt> h;
  std::int64_t id = 0;
  for (int t = 0; t < 2000; t += 10) h.push_back(ok(++id, t, t + 3, "n1", 0));  // the old primary goes on
  for (int t = 1000; t < 3000; t += 10) h.push_back(ok(++id, t, t + 3, "n2", 1));
  const Analysis r = analyze(h, {}, {});
  ASSERT_EQ(r.split_brain.size(), 1u);
  // n1 surely took writes until its last ack's invocation (1990), n2 from its first ack (1003).
  EXPECT_EQ(r.split_brain.front(), "n1 and n2 from +1.003s to +1.990s");
}

TEST(SplitBrain, OneStrayAckDoesNotMakeAPeriod) {
  // n1 acks once while n2 is the primary: a single ack proves no stretch of time.
  std::vector<Attempt> h;
  std::int64_t id = 0;
  for (int t = 0; t < 1000; t += 10) h.push_back(ok(++id, t, t + 3, "n2"));
  h.push_back(ok(++id, 500, 510, "n1"));
  EXPECT_TRUE(analyze(h, {}, {}).split_brain.empty());
}

TEST(SplitBrain, AttemptsWithoutANodeAreIgnored) {
  const std::vector<Attempt> h{ok(1, 0, 5, "n1"), attempt(2, 1, 2, Outcome::failed, ""), ok(3, 10, 15, "n1")};
  EXPECT_TRUE(analyze(h, {1, 3}, {}).split_brain.empty());
}

}  // namespace
}  // namespace chaosplus::writes
