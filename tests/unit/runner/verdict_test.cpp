// The verdict of a run: nothing checked is never held, a failed revert has its own exit code and
// keeps the other causes in the reasons.
#include "runner/verdict.h"

#include <gtest/gtest.h>

namespace chaosplus::runner {
namespace {

bool mentions(const VerdictResult& r, const std::string& text) {
  for (const auto& reason : r.reasons) {
    if (reason.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(Verdict, ExitCodesAreStable) {
  EXPECT_EQ(exit_code(Verdict::held), 0);
  EXPECT_EQ(exit_code(Verdict::deviated), 1);
  EXPECT_EQ(exit_code(Verdict::aborted), 2);
  EXPECT_EQ(exit_code(Verdict::error), 3);
  EXPECT_EQ(exit_code(Verdict::not_restored), 4);
  EXPECT_EQ(exit_code(Verdict::unchecked), 6);
}

TEST(Verdict, NothingCheckedIsNotHeld) {
  RunFacts f;
  f.checked = false;
  VerdictResult r = decide(f);
  EXPECT_EQ(r.verdict, Verdict::unchecked);
  EXPECT_TRUE(mentions(r, "nothing was checked"));
  EXPECT_FALSE(mentions(r, "held before, during and after"));
}

TEST(Verdict, CheckedAndQuietIsHeld) {
  RunFacts f;
  f.checked = true;
  f.after_checked = true;
  VerdictResult r = decide(f);
  EXPECT_EQ(r.verdict, Verdict::held);
  EXPECT_TRUE(mentions(r, "held before, during and after"));
}

TEST(Verdict, GuardrailAbortWithFailedRevertReportsBoth) {
  RunFacts f;
  f.checked = true;
  f.halted = true;
  f.guardrail_tripped = true;
  f.halt_reason = "guardrail 'errors' tripped: success rate 20%";
  f.not_restored.push_back("revert failed: kill db: not started by chaosplus");
  VerdictResult r = decide(f);
  EXPECT_EQ(r.verdict, Verdict::not_restored);
  EXPECT_EQ(exit_code(r.verdict), 4);
  EXPECT_TRUE(mentions(r, "guardrail 'errors' tripped"));
  EXPECT_TRUE(mentions(r, "revert failed: kill db"));
  EXPECT_TRUE(mentions(r, "chaosplus recover"));
  EXPECT_TRUE(mentions(r, "chaosplus leftovers"));
}

TEST(Verdict, RunnerErrorStaysThreeWhenEverythingWasRestored) {
  RunFacts f;
  f.checked = true;
  f.errors.push_back("cannot write the ledger");
  EXPECT_EQ(decide(f).verdict, Verdict::error);
}

TEST(Verdict, TheHaltAnErrorCausedIsNotListedAgainBesideTheError) {
  RunFacts f;
  f.errors = {"target 'shop': cannot start 'shop'", "cannot write the ledger"};
  f.halted = true;
  f.halt_reason = "error: target 'shop': cannot start 'shop'";
  EXPECT_EQ(decide(f).reasons, f.errors);
  f.halt_reason = "halted by `chaosplus halt` (pid 7)";  // another cause of the halt is a reason of its own
  EXPECT_EQ(decide(f).reasons.at(2), f.halt_reason);
}

TEST(Verdict, DeviationWinsOverUnchecked) {
  RunFacts f;
  f.checked = true;
  f.deviations.push_back("load a: p99 1.2s, expected < 250ms");
  EXPECT_EQ(decide(f).verdict, Verdict::deviated);
}

TEST(Verdict, ProbesLoadThresholdsAndLoadGuardrailsAreChecks) {
  spec::Experiment e;
  EXPECT_FALSE(checks_anything(e));
  e.phases.emplace_back();
  auto load = std::make_shared<spec::Load>();
  e.phases.back().activities.push_back({"load", "shoppers", load, {}});
  EXPECT_FALSE(checks_anything(e)) << "a load without thresholds checks nothing";
  load->thresholds.emplace_back();
  EXPECT_TRUE(checks_anything(e));
  spec::Experiment guarded;
  guarded.guardrails.emplace_back();
  guarded.guardrails.back().load = "shoppers";
  EXPECT_TRUE(checks_anything(guarded));
  spec::Experiment probed;
  probed.steady_state.probes.emplace_back();
  EXPECT_TRUE(checks_anything(probed));
}

TEST(Verdict, HaltedRunWithNothingCheckedIsAborted) {
  RunFacts f;
  f.halted = true;
  f.halt_reason = "halted by `chaosplus halt` (pid 7)";
  VerdictResult r = decide(f);
  EXPECT_EQ(r.verdict, Verdict::aborted);
  EXPECT_TRUE(mentions(r, "chaosplus halt"));
}

}  // namespace
}  // namespace chaosplus::runner
