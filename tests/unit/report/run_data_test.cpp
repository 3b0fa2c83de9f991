// The series and checks the reports draw, derived from a run's events alone.
#include "report/run_data.h"

#include <gtest/gtest.h>

#include <fstream>

#include "runner/provenance.h"
#include "support/support.h"
#include "unit/report/run_events.h"

namespace chaosplus::report {
namespace {

using testing::RunBuilder;

TEST(RunData, TheRowComesFromRunStartedAndRunVerdict) {
  RunBuilder run("20261206T161700Z-3fa2c1", "quickstart");
  run.verdict(900, "deviated", 1, "probe checkout failed; load p99 missed");
  const store::RunRow row = row_from_events(run.events);
  EXPECT_EQ(row.run_id, "20261206T161700Z-3fa2c1");
  EXPECT_EQ(row.experiment, "quickstart");
  EXPECT_EQ(row.file, "/nowhere/shop.yaml");
  EXPECT_EQ(row.verdict, "deviated");
  EXPECT_EQ(row.exit_code, 1);
  EXPECT_EQ(row.status, store::RunStatus::finished);
  EXPECT_EQ(row.events, 2);
}

TEST(RunData, ARunWithoutItsVerdictIsInterrupted) {
  RunBuilder run("r1");
  run.probes("checkout", 100, 3, 5);
  const RunData data = run.data();
  EXPECT_EQ(data.row.status, store::RunStatus::interrupted);
  EXPECT_TRUE(data.row.verdict.empty());
  EXPECT_FALSE(data.complete);
}

TEST(RunData, ProbeResultsBecomeASeriesAndDuringFigures) {
  RunBuilder run("r1");
  run.add(10, Event("probe.result")
                  .with("probe", "checkout")
                  .with("stage", "before")
                  .with("ok", true)
                  .with("latency_ms", 50.0));
  run.probes("checkout", 100, 10, 4.0, 0, 2);  // 10 during, 2 failed
  const RunData data = run.data();
  ASSERT_EQ(data.probes.size(), 1u);
  EXPECT_EQ(data.probes[0].points.size(), 11u);
  EXPECT_EQ(data.probes[0].points[0].stage, "before");
  EXPECT_DOUBLE_EQ(data.probes[0].points[3].at_ms, 300);
  EXPECT_EQ(data.probes[0].during.count, 10);  // the before result is not a during one
  EXPECT_EQ(data.probes[0].during.ok, 8);
  EXPECT_DOUBLE_EQ(data.probes[0].during.success_rate, 0.8);
  EXPECT_NEAR(data.probes[0].during.p50_ms, 4.0, 1e-9);
}

TEST(RunData, LoadTicksAndTheSummaryFormALoadSeries) {
  RunBuilder run("r1");
  run.load("shoppers", 1000, 3, 40, 0.02);
  const RunData data = run.data();
  ASSERT_EQ(data.loads.size(), 1u);
  EXPECT_EQ(data.loads[0].phase, "steady");
  ASSERT_EQ(data.loads[0].ticks.size(), 3u);
  EXPECT_DOUBLE_EQ(data.loads[0].ticks[1].from_ms, 2000);
  EXPECT_DOUBLE_EQ(data.loads[0].ticks[1].p99_ms, 40);
  EXPECT_TRUE(data.loads[0].figures.from_summary);
  EXPECT_DOUBLE_EQ(data.loads[0].figures.error_rate, 0.02);
  EXPECT_DOUBLE_EQ(data.loads[0].figures.requests, 300);
}

TEST(RunData, TheTypicalSecondsP99IsTheMedianOfEachSecondsP99) {
  RunBuilder run("r1");
  run.load("shoppers", 0, 1, 90, 0, {4, 90, 6, 5});
  run.probes("checkout", 0, 30, 4, 2);  // three seconds, each's p99 6 ms
  run.add(1550, Event("probe.result")
                    .with("probe", "checkout")
                    .with("stage", "during")
                    .with("ok", true)
                    .with("latency_ms", 70.0));
  const RunData data = run.data();
  EXPECT_DOUBLE_EQ(data.loads[0].figures.p99_typical_ms, 5.5);  // median of 4, 5, 6, 90
  EXPECT_DOUBLE_EQ(data.probes[0].during.p99_typical_ms, 6);    // the seconds: 6, 70, 6
  EXPECT_DOUBLE_EQ(data.probes[0].during.p99_ms, 70);
}

TEST(RunData, ALoadCutShortHasItsFiguresFromItsTicks) {
  RunBuilder run("r1");
  run.load("shoppers", 0, 3, 40, 0.5);
  run.events.pop_back();  // no load.summary: the runner was killed
  const RunData data = run.data();
  ASSERT_EQ(data.loads.size(), 1u);
  EXPECT_FALSE(data.loads[0].figures.from_summary);
  EXPECT_DOUBLE_EQ(data.loads[0].figures.requests, 300);
  EXPECT_DOUBLE_EQ(data.loads[0].figures.p99_ms, 40);
  EXPECT_NEAR(data.loads[0].figures.error_rate, 0.5, 1e-9);
  EXPECT_NEAR(data.loads[0].figures.rps, 100, 1e-9);
}

TEST(RunData, FaultsAreBandsFromInjectedToTheirRevert) {
  RunBuilder run("r1");
  run.add(1000, Event("fault.injected")
                    .with("fault", "latency")
                    .with("target", "tokens")
                    .with("summary", "latency on tokens")
                    .with("phase", "slow")
                    .with("ledger_id", 7))
      .add(1500, Event("fault.injected")
                     .with("fault", "kill")
                     .with("target", "db")
                     .with("summary", "kill db")
                     .with("phase", "slow")
                     .with("ledger_id", 8))
      .add(3000, Event("fault.reverted")
                     .with("fault", "kill")
                     .with("summary", "kill db")
                     .with("ok", false)
                     .with("error", "did not start")
                     .with("ledger_id", 8))
      .add(4000, Event("fault.reverted")
                     .with("fault", "latency")
                     .with("summary", "latency on tokens")
                     .with("ok", true)
                     .with("ledger_id", 7))
      .add(4500, Event("fault.injected")
                     .with("fault", "pause")
                     .with("target", "shop")
                     .with("summary", "pause shop")
                     .with("ledger_id", 9));
  const RunData data = run.data();
  ASSERT_EQ(data.faults.size(), 3u);
  EXPECT_EQ(data.faults[0].target, "tokens");
  EXPECT_DOUBLE_EQ(data.faults[0].from_ms, 1000);
  EXPECT_EQ(data.faults[0].to_ms, 4000);
  EXPECT_TRUE(data.faults[0].reverted_ok);
  EXPECT_EQ(data.faults[1].to_ms, 3000);
  EXPECT_FALSE(data.faults[1].reverted_ok);
  EXPECT_EQ(data.faults[1].error, "did not start");
  EXPECT_FALSE(data.faults[2].to_ms);  // never reverted
}

TEST(RunData, GuardrailTripsHaltsAndErrorsAreMarks) {
  RunBuilder run("r1");
  run.add(2000, Event("guardrail.tripped")
                    .with("guardrail", "collapse")
                    .with("metric", "probe.checkout.success_rate")
                    .with("measured", 0.4)
                    .with("message", "below 50%"))
      .add(2001, Event("run.halted").with("reason", "guardrail 'collapse' tripped"))
      .add(2500, Event("run.error").with("message", "cannot reach the proxy"))
      .add(2600, Event("fault.failed").with("summary", "kill db").with("error", "no such process"));
  const RunData data = run.data();
  ASSERT_EQ(data.marks.size(), 4u);
  EXPECT_EQ(data.marks[0].kind, "guardrail");
  EXPECT_EQ(data.marks[1].kind, "halt");
  EXPECT_EQ(data.marks[2].kind, "error");
  EXPECT_NE(data.marks[2].label.find("cannot reach the proxy"), std::string::npos);
  EXPECT_EQ(data.marks[3].kind, "fault_failed");
  ASSERT_EQ(data.checks_made.size(), 1u);
  EXPECT_EQ(data.checks_made[0].kind, "guardrail");
  EXPECT_EQ(data.checks_made[0].held, false);
  EXPECT_EQ(data.checks_made[0].measured, "0.4");
}

TEST(RunData, ChecksPhasesAndRecovery) {
  RunBuilder run("r1");
  run.add(10, Event("steady_state.result").with("stage", "before").with("held", true))
      .add(20, Event("phase.started").with("phase", "steady").with("index", 0))
      .add(5020, Event("phase.ended").with("phase", "steady").with("index", 0).with("halted", false))
      .add(5030, Event("threshold.result")
                     .with("activity", "load")
                     .with("name", "shoppers")
                     .with("metric", "load.shoppers.latency_p99")
                     .with("threshold", "p99 < 1s")
                     .with("held", false)
                     .with("measured", 1.2)
                     .with("message", "p99 = 1.2s"))
      .add(5040, Event("tolerance.result").with("probe", "checkout").with("held", true).with("message", "ok"))
      .add(5100, Event("steady_state.result")
                     .with("stage", "after")
                     .with("held", true)
                     .with("attempts", 2)
                     .with("time_to_recover_ms", 812.5))
      .verdict(5200, "deviated", 1, "threshold missed");
  const RunData data = run.data();
  ASSERT_EQ(data.phases.size(), 1u);
  EXPECT_EQ(data.phases[0].to_ms, 5020);
  ASSERT_EQ(data.checks_made.size(), 4u);
  EXPECT_EQ(data.checks_made[1].kind, "threshold");
  EXPECT_EQ(data.checks_made[1].name, "load shoppers: p99 < 1s");
  EXPECT_EQ(data.checks_made[1].metric, "load.shoppers.latency_p99");
  EXPECT_EQ(data.checks_made[1].held, false);
  EXPECT_EQ(data.checks_made[2].kind, "tolerance");
  EXPECT_EQ(data.checks_made[3].name, "after");
  EXPECT_EQ(data.time_to_recover_ms, 812.5);
  EXPECT_TRUE(data.complete);
  // The reasons are the verdict fold's, from the same events.
  ASSERT_FALSE(data.reasons.empty());
  EXPECT_NE(data.reasons[0].find("p99 = 1.2s"), std::string::npos) << data.reasons[0];
}

TEST(RunData, AnAfterCheckNeverMadeIsNotJudged) {
  RunBuilder run("r1");
  run.add(10, Event("steady_state.result").with("stage", "before").with("held", true))
      .add(20, Event("run.error").with("message", "boom"))
      .verdict(30, "error", 3, "boom");
  const RunData data = run.data();
  ASSERT_EQ(data.checks_made.size(), 2u);
  EXPECT_EQ(data.checks_made[1].name, "after");
  EXPECT_FALSE(data.checks_made[1].held.has_value());
}

TEST(RunData, FindingsKeepTheirEvent) {
  RunBuilder run("r1");
  run.add(100, Event("fuzz.finding")
                   .with("id", "F0123456789")
                   .with("engine", "fuzz")
                   .with("oracle", "server_error")
                   .with("operation", "createOrder")
                   .with("severity", "high")
                   .with("title", "POST /orders answers 500")
                   .with("count", 3))
      .add(200, Event("security.finding")
                    .with("id", "Fabcdefabcd")
                    .with("engine", "security")
                    .with("oracle", "fail_open")
                    .with("severity", "critical"));
  const RunData data = run.data();
  ASSERT_EQ(data.findings.size(), 2u);
  EXPECT_EQ(data.findings[0].id, "F0123456789");
  EXPECT_EQ(data.findings[0].count, 3);
  EXPECT_EQ(data.findings[0].event.text("operation"), "createOrder");
  EXPECT_EQ(data.findings[1].engine, "security");
}

TEST(RunData, LoadRunReadsAJournalAndItsWallTimes) {
  chaosplus::testing::TempDir dir;
  const std::string path = dir.file("run.jsonl");
  std::ofstream(path)
      << R"({"time":"2026-12-06T05:52:13.157Z","elapsed_ms":4.5,"type":"run.started","run_id":"abc","experiment":"quickstart","file":"/x.yaml","file_sha256":"00","checks":true})"
      << "\n"
      << R"({"time":"2026-12-06T05:52:15.157Z","elapsed_ms":2004.5,"type":"run.verdict","verdict":"held","exit_code":0,"reasons":""})"
      << "\n";
  auto run = load_run(path, nullptr);
  ASSERT_TRUE(run) << run.error();
  EXPECT_EQ(run->row.run_id, "abc");
  EXPECT_EQ(run->row.verdict, "held");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(run->row.ended - run->row.started).count(), 2000);
  EXPECT_EQ(format_wall_time(run->row.started), "2026-12-06T05:52:13.157Z");
}

// Puts a run's events into a store as the runner does: its row, then the events in order.
void store_run(store::Store& db, const RunBuilder& run) {
  store::RunRow row = row_from_events(run.events);
  row.file_text = "name: shop\n";
  ASSERT_TRUE(db.begin_run(row));
  std::vector<store::StoredEvent> events;
  for (const Event& e : run.events)
    events.push_back(store::StoredEvent{static_cast<std::int64_t>(events.size()) + 1, e, ""});
  ASSERT_TRUE(db.append_events(row.run_id, events));
  ASSERT_TRUE(db.finish_run(row));
}

TEST(RunData, LoadRunFindsARunInTheStoreByItsIdOrAPrefix) {
  chaosplus::testing::TempDir dir;
  auto db = store::Store::open(dir.file("results.db"));
  ASSERT_TRUE(db) << db.error();
  RunBuilder a("20261206T161700.000Z-aaaaaa"), b("20261206T161800.000Z-bbbbbb");
  a.probes("checkout", 100, 5, 4).verdict(1000, "held", 0);
  b.verdict(1000, "deviated", 1);
  store_run(**db, a);
  store_run(**db, b);
  auto run = load_run("20261206T1617", db->get());
  ASSERT_TRUE(run) << run.error();
  EXPECT_EQ(run->row.run_id, "20261206T161700.000Z-aaaaaa");
  EXPECT_EQ(run->row.file_text, "name: shop\n");
  EXPECT_EQ(run->events.size(), a.events.size());
  EXPECT_EQ(derive_run(run->row, run->events).probes.at(0).during.count, 5);
  auto missing = load_run("1999", db->get());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no run with that id"), std::string::npos) << missing.error();
  EXPECT_FALSE(load_run("20261206T16", db->get())) << "ambiguous";
}

TEST(RunData, LoadRunSaysWhatIsWrong) {
  chaosplus::testing::TempDir dir;
  auto missing = load_run(dir.file("nope.jsonl"), nullptr);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no such journal file"), std::string::npos) << missing.error();
  const std::string other = dir.file("other.jsonl");
  std::ofstream(other) << R"({"time":"2026-12-06T05:52:13.157Z","elapsed_ms":1,"type":"probe.result"})"
                       << "\n";
  auto wrong = load_run(other, nullptr);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().find("not a run's journal"), std::string::npos) << wrong.error();
  const std::string broken = dir.file("broken.jsonl");
  std::ofstream(broken) << "not json\n";
  EXPECT_FALSE(load_run(broken, nullptr));
}

TEST(RunData, TheExperimentTextIsShownOnlyWhileTheFileIsUnchanged) {
  chaosplus::testing::TempDir dir;
  const std::string path = dir.file("e.yaml");
  chaosplus::testing::write_file(path, "name: e\n");
  store::RunRow row;
  row.file = path;
  row.file_sha256 = runner::file_sha256(path).value();
  EXPECT_EQ(experiment_text(row), "name: e\n");
  chaosplus::testing::write_file(path, "name: changed\n");
  EXPECT_FALSE(experiment_text(row));
  row.file_text = "name: e\n";  // the store kept it
  EXPECT_EQ(experiment_text(row), "name: e\n");
}

}  // namespace
}  // namespace chaosplus::report
