#include "runner/verdict_fold.h"

#include <gtest/gtest.h>

#include <sstream>

#include "runner/journal.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

Event started(bool checks = true) {
  return Event("run.started")
      .with("experiment", "shop")
      .with("journal", "/runs/shop.jsonl")
      .with("logs", "/runs/shop.logs")
      .with("checks", checks);
}

// Each event goes through its journal line and back, as `chaosplus report` reads it.
VerdictFold fold_of(const std::vector<Event>& events, bool through_journal) {
  VerdictFold fold;
  for (const Event& e : events) {
    if (!through_journal) {
      fold.add(e);
      continue;
    }
    auto back = parse_journal_line(to_json_line(e));
    EXPECT_TRUE(back.ok()) << back.error();
    if (back) fold.add(*back);
  }
  return fold;
}

std::string printed(const RunSummary& s) {
  std::ostringstream out;
  print_summary(out, s);
  return out.str();
}

TEST(VerdictFold, AHeldRunFromItsEvents) {
  std::vector<Event> events{
      started(),
      Event("probe.result").with("probe", "checkout").with("stage", "before").with("ok", true),
      Event("steady_state.result").with("stage", "before").with("held", true).with("message", ""),
      Event("fault.injected").with("summary", "latency 200ms on api"),
      Event("probe.result").with("probe", "checkout").with("stage", "during").with("ok", true).with("latency_ms", 12.5),
      Event("probe.result")
          .with("probe", "checkout")
          .with("stage", "during")
          .with("ok", false)
          .with("latency_ms", 3.25),
      Event("fault.reverted").with("summary", "latency 200ms on api").with("ok", true),
      Event("steady_state.result")
          .with("stage", "after")
          .with("held", true)
          .with("attempts", 2)
          .with("time_to_recover_ms", 1004.5),
      Event("tolerance.result").with("probe", "checkout").with("held", true).with("message", "ok"),
  };
  const RunSummary s = fold_of(events, false).summary();
  EXPECT_EQ(s.decided.verdict, Verdict::held);
  EXPECT_EQ(s.faults_injected, 1);
  EXPECT_EQ(s.faults_reverted, 1);
  ASSERT_EQ(s.probes.size(), 1u);
  EXPECT_EQ(s.probes[0].overall.count, 2);
  EXPECT_EQ(s.probes[0].overall.ok, 1);
  const std::string text = printed(s);
  EXPECT_NE(text.find("== shop: HELD (exit code 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("time to recover: 1004 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("probe checkout during the phases: 1/2 ok (50.0%), p50 3.2ms, p99 12.5ms"), std::string::npos)
      << text;
  EXPECT_NE(text.find("logs:    /runs/shop.logs/"), std::string::npos) << text;
  EXPECT_EQ(printed(fold_of(events, true).summary()), text) << "a journal read back gives the same summary";
}

TEST(VerdictFold, EveryFactOfTheVerdictIsAnEvent) {
  // A failed revert outranks the guardrail's abort; a halted run's tolerances are not held against
  // it; a load threshold that failed is a deviation; slips are named.
  std::vector<Event> events{
      started(),
      Event("guardrail.tripped").with("guardrail", "errors").with("load", "shoppers"),
      Event("run.halted").with("reason", "guardrail 'errors' tripped: too many"),
      Event("fault.reverted").with("summary", "kill db").with("ok", false).with("error", "it did not come back"),
      Event("rollback.done").with("name", "restart db").with("ok", false).with("error", "exit 1"),
      Event("placement.removed").with("what", "target db").with("ok", false).with("error", "still running"),
      Event("threshold.result")
          .with("activity", "load")
          .with("name", "shoppers")
          .with("held", false)
          .with("message", "p99 = 912ms, expected < 250ms"),
      Event("timeline.slipped").with("phase", "chaos").with("where", "revert of kill db").with("late_ms", 1500.0),
      Event("tolerance.result").with("probe", "checkout").with("held", false).with("message", "50%"),
  };
  const RunFacts f = fold_of(events, true).facts();
  EXPECT_TRUE(f.halted);
  EXPECT_TRUE(f.guardrail_tripped);
  EXPECT_EQ(f.halt_reason, "guardrail 'errors' tripped: too many");
  EXPECT_EQ(f.not_restored, (std::vector<std::string>{"revert failed: kill db: it did not come back",
                                                      "rollback restart db failed: exit 1",
                                                      "could not stop target db: still running"}));
  EXPECT_EQ(f.deviations, (std::vector<std::string>{"load shoppers: p99 = 912ms, expected < 250ms"}));
  EXPECT_NE(f.slips.find("at most 1.5s late (revert of kill db in phase chaos)"), std::string::npos) << f.slips;
  EXPECT_EQ(decide(f).verdict, Verdict::not_restored);
}

TEST(VerdictFold, AnErrorHaltsTheRunAndARunThatChecksNothingIsNeverHeld) {
  RunFacts f = fold_of({started(), Event("run.error").with("message", "cannot place the proxy")}, true).facts();
  EXPECT_TRUE(f.halted);
  EXPECT_EQ(f.halt_reason, "error: cannot place the proxy");
  EXPECT_EQ(decide(f).verdict, Verdict::error);

  EXPECT_EQ(fold_of({started(false)}, true).summary().decided.verdict, Verdict::unchecked);
  EXPECT_EQ(fold_of({started(true)}, true).summary().decided.verdict, Verdict::held);
  const Event before_failed =
      Event("steady_state.result").with("stage", "before").with("held", false).with("message", "it was down");
  const RunSummary s = fold_of({started(), before_failed}, true).summary();
  EXPECT_EQ(s.decided.verdict, Verdict::deviated);
  EXPECT_EQ(s.decided.reasons.front(), "it was down");
}

// An agent that could not tear down its part of the run left something on (docs/agents.md): exit 4.
TEST(VerdictFold, AnAgentThatCouldNotTearDownMeansNotRestored) {
  const std::vector<Event> events{
      started(),
      Event("agent.teardown").with("agent", "db-1").with("ok", true),
      Event("agent.teardown").with("agent", "db-2").with("ok", false).with("error", "pause tokens: still stopped"),
  };
  const RunSummary s = fold_of(events, true).summary();
  EXPECT_EQ(s.decided.verdict, Verdict::not_restored);
  EXPECT_EQ(fold_of(events, true).facts().not_restored,
            std::vector<std::string>{"agent db-2 could not tear down: pause tokens: still stopped"});
}

TEST(JournalLines, ReadBackAsTheEventsThatWroteThem) {
  Event e("load.tick");
  e.with("load", "shoppers").with("requests", std::int64_t{120}).with("ok", true).with("p99_ms", 12.25);
  e.elapsed = 1500ms;
  auto back = parse_journal_line(to_json_line(e));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->type, "load.tick");
  EXPECT_EQ(back->elapsed, Duration(1500ms));
  EXPECT_EQ(back->text("load"), "shoppers");
  EXPECT_TRUE(std::holds_alternative<std::int64_t>(*back->find("requests")));
  EXPECT_TRUE(back->flag("ok"));
  EXPECT_DOUBLE_EQ(back->number("p99_ms"), 12.25);
  EXPECT_FALSE(parse_journal_line("{\"elapsed_ms\": 3}").ok());
  EXPECT_FALSE(parse_journal_line("not json").ok());
}

}  // namespace
}  // namespace chaosplus::runner

namespace chaosplus::runner {
namespace {

// A write workload's figures are in the summary, from its event alone (so `chaosplus report` prints
// them too).
TEST(VerdictFold, TheSummaryListsEachWriteWorkloadsFigures) {
  const std::vector<Event> events{
      started(),
      Event("writes.summary")
          .with("name", "orders")
          .with("attempted", 1200)
          .with("acknowledged", 1100)
          .with("failed", 90)
          .with("unknown", 10)
          .with("read_back", true)
          .with("lost", 2)
          .with("unexpected", 0)
          .with("unknown_committed", 4)
          .with("failed_committed", 0)
          .with("lost_ids", "17, 18")
          .with("rpo_lost", 2)
          .with("rpo_span_ms", 250.0)
          .with("rto_fault", "kill db")
          .with("rto_ms", 9742.0)
          .with("promotion_ms", 9559.0)
          .with("reconnection_ms", 183.0)
          .with("split_brain", 0)
          .with("thresholds", "lost_writes = 2, NOT within lost_writes == 0"),
      Event("writes.summary")
          .with("name", "audit")
          .with("attempted", 10)
          .with("acknowledged", 3)
          .with("failed", 7)
          .with("unknown", 0)
          .with("read_back", false)
          .with("read_back_error", "connect: refused")
          .with("rto_fault", "kill db")
          .with("split_brain", 1)
          .with("split_brain_periods", "n1 and n2 from +1.000s to +2.000s"),
  };
  for (bool through_journal : {false, true}) {
    const std::string text = printed(fold_of(events, through_journal).summary());
    EXPECT_NE(
        text.find("   writes orders: 1200 attempted, 1100 acknowledged, 90 failed, 10 unknown; lost 2, unexpected "
                  "0, unknown committed 4; RPO 2 write(s) over 0.25s (lost ids 17, 18); RTO 9.74s (promotion "
                  "9.56s, reconnection 0.18s) after kill db; split brain: none\n"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("NOT within"), std::string::npos) << "thresholds are the reasons' business: " << text;
    EXPECT_NE(text.find("   writes audit: 10 attempted, 3 acknowledged, 7 failed, 0 unknown; NOT READ BACK: connect: "
                        "refused; RTO not measured: no write succeeded after kill db; SPLIT BRAIN: n1 and n2 from "
                        "+1.000s to +2.000s\n"),
              std::string::npos)
        << text;
  }
}

}  // namespace
}  // namespace chaosplus::runner
