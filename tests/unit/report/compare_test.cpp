// compare: a planted regression is flagged, noise is not, and each rule has its edge.
#include "report/compare.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/report/run_events.h"

namespace chaosplus::report {
namespace {

using testing::RunBuilder;

const CompareRow* row(const Comparison& c, const std::string& what) {
  for (const CompareRow& r : c.rows)
    if (r.what == what) return &r;
  return nullptr;
}

RunData shop_run(const std::string& id, double probe_ms, double load_p50, double load_p99, double error_rate,
                 double jitter = 0, int failures = 0) {
  RunBuilder run(id);
  run.probes("checkout", 100, 50, probe_ms, jitter, failures);
  run.load("shoppers", 200, load_p50, load_p99, error_rate);
  run.add(5000,
          Event("steady_state.result").with("stage", "after").with("held", true).with("time_to_recover_ms", 300.0));
  run.verdict(5100, "held", 0);
  return run.data();
}

TEST(Compare, APlantedSlowdownIsARegressionAndNamesItsRow) {
  const Comparison c = compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 104, 103, 130, 0));
  EXPECT_TRUE(c.regression());
  const CompareRow* p50 = row(c, "probe checkout p50 latency (during the phases)");
  ASSERT_NE(p50, nullptr);
  EXPECT_EQ(p50->change, Change::worse);
  EXPECT_TRUE(p50->regression);
  EXPECT_EQ(p50->rule, "worse when up by more than max(25%, 5 ms)");
  const CompareRow* load = row(c, "load shoppers (phase steady) p50 latency");
  ASSERT_NE(load, nullptr);
  EXPECT_TRUE(load->regression);
  EXPECT_NE(format_comparison(c).find("REGRESSION"), std::string::npos);
}

TEST(Compare, TwoRunsDifferingByNoiseAreTheSame) {
  // A few milliseconds of jitter, a rare error, a slower tail by 10 ms: all within the rules.
  const Comparison c = compare_runs(shop_run("a", 4, 3, 12, 0.001), shop_run("b", 6, 5.5, 22, 0.004, 3));
  EXPECT_FALSE(c.regression()) << format_comparison(c);
  for (const CompareRow& r : c.rows) EXPECT_EQ(r.change, Change::same) << r.what;
  EXPECT_NE(format_comparison(c).find("no regression"), std::string::npos);
}

TEST(Compare, ImprovementsAreBetterNotRegressions) {
  const Comparison c = compare_runs(shop_run("a", 104, 103, 130, 0.05), shop_run("b", 4, 3, 12, 0));
  EXPECT_FALSE(c.regression());
  EXPECT_EQ(row(c, "probe checkout p50 latency (during the phases)")->change, Change::better);
  EXPECT_EQ(row(c, "load shoppers (phase steady) error rate")->change, Change::better);
}

TEST(Compare, LatencyRuleEdge) {
  // A = 100 ms: allowed max(25 ms, 5 ms) = 25 ms. 125 is the edge (same), 125.5 is worse.
  EXPECT_FALSE(compare_runs(shop_run("a", 100, 3, 12, 0), shop_run("b", 125, 3, 12, 0)).regression());
  EXPECT_TRUE(compare_runs(shop_run("a", 100, 3, 12, 0), shop_run("b", 125.5, 3, 12, 0)).regression());
  // A = 4 ms: the 5 ms floor decides. 9 is the edge, 9.5 is worse.
  EXPECT_FALSE(compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 9, 3, 12, 0)).regression());
  EXPECT_TRUE(compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 9.5, 3, 12, 0)).regression());
}

TEST(Compare, TailRuleEdge) {
  // p99 of the load: A = 100 ms, allowed max(50 ms, 25 ms).
  EXPECT_FALSE(compare_runs(shop_run("a", 4, 3, 100, 0), shop_run("b", 4, 3, 150, 0)).regression());
  const Comparison c = compare_runs(shop_run("a", 4, 3, 100, 0), shop_run("b", 4, 3, 151, 0));
  EXPECT_TRUE(c.regression());
  EXPECT_TRUE(row(c, "load shoppers (phase steady) p99 latency (typical second)")->regression);
  EXPECT_EQ(row(c, "load shoppers (phase steady) p99 latency (typical second)")->rule,
            "worse when up by more than max(50%, 25 ms)");
}

TEST(Compare, OneStalledSecondIsNotATailRegression) {
  // The machine stalled once in B: one second's p99 is 60 ms, the run's p99 with it. A typical
  // second is as fast as in A.
  RunBuilder a("a"), b("b");
  a.load("shoppers", 0, 1, 5, 0, {5, 4, 5, 6, 5}).verdict(6000, "held", 0);
  b.load("shoppers", 0, 1, 60, 0, {5, 60, 4, 5, 6}).verdict(6000, "held", 0);
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_FALSE(c.regression()) << format_comparison(c);
  EXPECT_EQ(row(c, "load shoppers (phase steady) p99 latency (typical second)")->b, "5.00 ms");
}

TEST(Compare, ATailThatGrewInEverySecondIsARegression) {
  RunBuilder a("a"), b("b");
  a.load("shoppers", 0, 1, 5, 0, {5, 4, 5, 6, 5}).verdict(6000, "held", 0);
  b.load("shoppers", 0, 1, 60, 0, {55, 60, 40, 45, 58}).verdict(6000, "held", 0);
  EXPECT_TRUE(
      row(compare_runs(a.data(), b.data()), "load shoppers (phase steady) p99 latency (typical second)")->regression);
}

TEST(Compare, AProbeStalledOnceIsNotATailRegression) {
  // 50 results over 5 seconds; in B one of them took 80 ms: its p99 over the run, not of a typical second.
  RunBuilder a("a"), b("b");
  a.probes("checkout", 0, 50, 4).verdict(6000, "held", 0);
  b.probes("checkout", 0, 50, 4).verdict(6000, "held", 0);
  b.add(2550, Event("probe.result")
                  .with("probe", "checkout")
                  .with("stage", "during")
                  .with("ok", true)
                  .with("latency_ms", 80.0));
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_FALSE(c.regression()) << format_comparison(c);
}

TEST(Compare, ErrorRateRuleEdge) {
  // One percentage point: 0.5% -> 1.5% is the edge, 1.6% is worse.
  EXPECT_FALSE(compare_runs(shop_run("a", 4, 3, 12, 0.005), shop_run("b", 4, 3, 12, 0.015)).regression());
  const Comparison c = compare_runs(shop_run("a", 4, 3, 12, 0.005), shop_run("b", 4, 3, 12, 0.016));
  EXPECT_TRUE(row(c, "load shoppers (phase steady) error rate")->regression);
}

TEST(Compare, SuccessRateRuleEdge) {
  // 50 results: 1 failure is 2 points down, beyond the 1 point allowed; with 2 points allowed it is the same.
  const Comparison c = compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 4, 3, 12, 0, 0, 1));
  EXPECT_TRUE(row(c, "probe checkout success rate (during the phases)")->regression);
  CompareRules loose;
  ASSERT_TRUE(set_rule(loose, "success-rate-tolerance", "2%"));
  EXPECT_FALSE(compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 4, 3, 12, 0, 0, 1), loose).regression());
}

RunData recovering(const std::string& id, std::optional<double> ttr) {
  RunBuilder run(id);
  if (ttr)
    run.add(100,
            Event("steady_state.result").with("stage", "after").with("held", true).with("time_to_recover_ms", *ttr));
  else
    run.add(100,
            Event("steady_state.result").with("stage", "after").with("held", false).with("message", "checkout failed"));
  run.verdict(200, ttr ? "held" : "deviated", ttr ? 0 : 1);
  return run.data();
}

TEST(Compare, RecoveryRuleEdge) {
  // A = 400 ms: allowed max(200 ms, 1 s) = 1 s. A = 4 s: allowed 2 s.
  EXPECT_FALSE(compare_runs(recovering("a", 400), recovering("b", 1400)).regression());
  EXPECT_TRUE(compare_runs(recovering("a", 400), recovering("b", 1401)).regression());
  EXPECT_FALSE(compare_runs(recovering("a", 4000), recovering("b", 6000)).regression());
  const Comparison c = compare_runs(recovering("a", 4000), recovering("b", 6001));
  EXPECT_TRUE(row(c, "time to recover (steady state after)")->regression);
  // Not recovering at all is worse than any time.
  const Comparison never = compare_runs(recovering("a", 400), recovering("b", std::nullopt));
  EXPECT_EQ(row(never, "time to recover (steady state after)")->b, "did not recover");
  EXPECT_TRUE(row(never, "time to recover (steady state after)")->regression);
  EXPECT_TRUE(row(never, "steady state after")->regression);
}

TEST(Compare, AWorseVerdictIsARegression) {
  RunBuilder a("a"), b("b");
  a.verdict(10, "held", 0);
  b.verdict(10, "aborted", 2);
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_TRUE(row(c, "verdict")->regression);
  EXPECT_FALSE(compare_runs(b.data(), a.data()).regression());
  EXPECT_EQ(row(compare_runs(b.data(), a.data()), "verdict")->change, Change::better);
}

TEST(Compare, ANewFindingIsARegressionAndAGoneOneIsBetter) {
  auto finding = [](const std::string& id) {
    return Event("fuzz.finding")
        .with("id", id)
        .with("engine", "fuzz")
        .with("oracle", "server_error")
        .with("severity", "high");
  };
  RunBuilder a("a"), b("b");
  a.add(10, finding("F0000000001")).add(11, finding("F0000000002")).verdict(20, "held", 0);
  b.add(10, finding("F0000000002")).add(11, finding("F0000000003")).verdict(20, "held", 0);
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_TRUE(c.regression());
  int fresh = 0, gone = 0;
  for (const CompareRow& r : c.rows) {
    if (r.section != "finding") continue;
    if (r.what.find("F0000000003") != std::string::npos) {
      EXPECT_TRUE(r.regression);
      ++fresh;
    }
    if (r.what.find("F0000000001") != std::string::npos) {
      EXPECT_EQ(r.change, Change::better);
      ++gone;
    }
    EXPECT_EQ(r.what.find("F0000000002"), std::string::npos) << "seen in both: not a change";
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(gone, 1);
}

TEST(Compare, AGuardrailThatTripsOnlyInBIsWorse) {
  RunBuilder a("a"), b("b");
  a.verdict(10, "held", 0);
  b.add(5, Event("guardrail.tripped").with("guardrail", "collapse").with("message", "x")).verdict(10, "held", 0);
  const Comparison c = compare_runs(a.data(), b.data());
  const CompareRow* g = row(c, "guardrail collapse");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->a, "not tripped");
  EXPECT_EQ(g->b, "tripped");
  EXPECT_TRUE(g->regression);
}

TEST(Compare, AThresholdMissedOnlyInBIsWorse) {
  auto threshold = [](bool held) {
    return Event("threshold.result")
        .with("activity", "load")
        .with("name", "shoppers")
        .with("threshold", "p99 < 1s")
        .with("held", held);
  };
  RunBuilder a("a"), b("b");
  a.add(10, threshold(true)).verdict(20, "held", 0);
  b.add(10, threshold(false)).verdict(20, "deviated", 1);
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_TRUE(row(c, "threshold load shoppers: p99 < 1s")->regression);
}

TEST(Compare, AProbeOrLoadInOneRunOnlyIsShownNotJudged) {
  RunBuilder a("a"), b("b");
  a.probes("checkout", 0, 5, 4).verdict(1000, "held", 0);
  b.probes("search", 0, 5, 4).verdict(1000, "held", 0);
  const Comparison c = compare_runs(a.data(), b.data());
  EXPECT_FALSE(c.regression());
  EXPECT_EQ(row(c, "probe checkout (during the phases)")->change, Change::only_a);
  EXPECT_EQ(row(c, "probe search (during the phases)")->change, Change::only_b);
}

TEST(Compare, RulesAreSetFromFlags) {
  CompareRules rules;
  ASSERT_TRUE(set_rule(rules, "latency-tolerance", "10%"));
  ASSERT_TRUE(set_rule(rules, "latency-floor", "2ms"));
  ASSERT_TRUE(set_rule(rules, "error-rate-tolerance", "0.5%"));
  ASSERT_TRUE(set_rule(rules, "recovery-floor", "3s"));
  EXPECT_DOUBLE_EQ(rules.latency_ratio, 0.10);
  EXPECT_DOUBLE_EQ(rules.latency_floor_ms, 2);
  EXPECT_DOUBLE_EQ(rules.error_rate_points, 0.5);
  EXPECT_DOUBLE_EQ(rules.recovery_floor_ms, 3000);
  auto bad = set_rule(rules, "latency-floor", "5");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--latency-floor 5"), std::string::npos) << bad.error();
  EXPECT_FALSE(set_rule(rules, "latency-tolerance", "fast"));
  // A tighter rule flags what the default lets pass.
  EXPECT_FALSE(compare_runs(shop_run("a", 100, 3, 12, 0), shop_run("b", 120, 3, 12, 0)).regression());
  EXPECT_TRUE(compare_runs(shop_run("a", 100, 3, 12, 0), shop_run("b", 120, 3, 12, 0), rules).regression());
  EXPECT_EQ(row(compare_runs(shop_run("a", 100, 3, 12, 0), shop_run("b", 120, 3, 12, 0), rules),
                "probe checkout p50 latency (during the phases)")
                ->rule,
            "worse when up by more than max(10%, 2 ms)");
}

TEST(Compare, JsonAndMarkdownCarryEveryRow) {
  const Comparison c = compare_runs(shop_run("a", 4, 3, 12, 0), shop_run("b", 104, 103, 130, 0));
  const auto json = nlohmann::json::parse(comparison_json(c));
  EXPECT_EQ(json["run_a"], "a");
  EXPECT_TRUE(json["regression"].get<bool>());
  EXPECT_EQ(json["rows"].size(), c.rows.size());
  const std::string md = comparison_markdown(c);
  EXPECT_NE(md.find("| probe checkout p50 latency (during the phases) |"), std::string::npos) << md;
  EXPECT_NE(md.find("**worse (regression)**"), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::report
