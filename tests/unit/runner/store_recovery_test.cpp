// Recovery and the results store: a dead run is marked interrupted, its journal replayed (only
// complete lines), then recovered once nothing is left; a revert that fails leaves it interrupted;
// a run the store still shows running whose ledger run ended is brought up to date.
#include "runner/store_recovery.h"

#include <gtest/gtest.h>

#include <sstream>

#include "runner/provenance.h"
#include "runner/recovery.h"
#include "runner/run_recorder.h"
#include "support/support.h"

namespace chaosplus::runner {
namespace {

using testing::TempDir;

class StoreRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ledger = Ledger::open(dir_.file("ledger.db"));
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    ledger_ = std::move(ledger).value();
    auto st = store::Store::open(dir_.file("results.db"));
    ASSERT_TRUE(st.ok()) << st.error();
    store_ = std::move(st).value();
  }

  Event at(std::string type, int ms) const {
    Event e(std::move(type));
    e.wall = std::chrono::system_clock::time_point(std::chrono::hours(493'000) + std::chrono::milliseconds(ms));
    e.elapsed = std::chrono::milliseconds(ms);
    return e;
  }

  // A journal of `events`, and the store holding only its first `stored` events (the writer lagged).
  void journal(const std::vector<Event>& events, std::size_t stored, const std::string& cut_tail = {}) {
    std::string text;
    for (const Event& e : events) text += to_json_line(e) + "\n";
    testing::write_file(journal_, text + cut_tail);
    ASSERT_TRUE(store_->begin_run(run_row_from_started(events.front(), "text")).ok());
    std::vector<store::StoredEvent> first;
    for (std::size_t i = 0; i < stored; ++i) first.push_back({static_cast<std::int64_t>(i + 1), events[i]});
    ASSERT_TRUE(store_->append_events(id_, first).ok());
  }

  std::vector<Event> a_run(bool with_verdict) const {
    std::vector<Event> events{at("run.started", 0)
                                  .with("run_id", id_)
                                  .with("experiment", "exp")
                                  .with("host", host_name())
                                  .with("journal", journal_),
                              at("probe.result", 10).with("probe", "p").with("ok", true),
                              at("fault.injected", 20).with("fault", "pause").with("ledger_id", 1)};
    if (with_verdict) events.push_back(at("run.verdict", 30).with("verdict", "held").with("exit_code", 0));
    return events;
  }

  store::RunRow row() {
    auto r = store_->find_run(id_);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : store::RunRow{};
  }

  TempDir dir_;
  std::string id_ = "20261206T120000.000Z-abcdef";
  std::string journal_ = dir_.file("j.jsonl");
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(StoreRecoveryTest, ADeadRunIsInterruptedReplayedThenRecovered) {
  const auto events = a_run(false);
  journal(events, 1, R"({"time":"2026-)");                                        // a last line cut short by the kill
  ASSERT_TRUE(ledger_->begin_run({id_, 0, 0, "exp", journal_, "running"}).ok());  // pid 0: not alive
  std::ostringstream out;
  RecoveryReport report = recover(*ledger_, store_.get(), out);
  EXPECT_EQ(report.runs_recovered, 1);
  EXPECT_NE(out.str().find("run " + id_ + " marked interrupted in the results store (3 events from its journal)"),
            std::string::npos)
      << out.str();
  EXPECT_EQ(row().status, store::RunStatus::recovered);
  auto stored = store_->events(id_);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 3u);  // the cut line is not an event
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ((*stored)[i].line, to_json_line(events[i]));
  EXPECT_EQ(row().events, 3);
}

TEST_F(StoreRecoveryTest, ARunWhoseRevertFailsStaysInterrupted) {
  journal(a_run(false), 3);
  ASSERT_TRUE(ledger_->begin_run({id_, 0, 0, "exp", journal_, "running"}).ok());
  // An entry no fault of this build can undo (a newer chaosplus wrote it): its revert fails.
  ASSERT_TRUE(ledger_->record(id_, "future.fault", "{}").ok());
  std::ostringstream out;
  RecoveryReport report = recover(*ledger_, store_.get(), out);
  EXPECT_GE(report.entries_failed, 1) << out.str();
  EXPECT_EQ(row().status, store::RunStatus::interrupted);
}

TEST_F(StoreRecoveryTest, ARunningRowWhoseLedgerRunEndedIsFinishedFromItsJournal) {
  journal(a_run(true), 2);  // the store failed during the run; the run went on to its verdict
  ASSERT_TRUE(ledger_->begin_run({id_, 0, 0, "exp", journal_, "running"}).ok());
  ASSERT_TRUE(ledger_->end_run(id_, "held").ok());
  store::RunRow other = run_row_from_started(at("run.started", 0).with("run_id", "not-in-this-ledger"), "");
  other.host = host_name();
  ASSERT_TRUE(store_->begin_run(other).ok());

  std::ostringstream out;
  (void)recover(*ledger_, store_.get(), out);
  const store::RunRow r = row();
  EXPECT_EQ(r.status, store::RunStatus::finished);
  EXPECT_EQ(r.verdict, "held");
  EXPECT_EQ(r.events, 4);
  auto untouched = store_->find_run("not-in-this-ledger");
  ASSERT_TRUE(untouched.ok() && untouched->has_value());
  EXPECT_EQ((*untouched)->status, store::RunStatus::running);  // may be another state folder's
}

}  // namespace
}  // namespace chaosplus::runner
