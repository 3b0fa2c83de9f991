// The recorder numbers events as the journal's lines, makes the run's row at run.started, finishes
// it at run.verdict, and stops at the store's first failure without leaving a gap.
#include "runner/run_recorder.h"

#include <gtest/gtest.h>

#include "store/sql_connection.h"
#include "support/support.h"

namespace chaosplus::runner {
namespace {

using testing::TempDir;

Event at(std::string type, int ms) {
  Event e(std::move(type));
  e.wall = std::chrono::system_clock::time_point(std::chrono::hours(493'000) + std::chrono::milliseconds(ms));
  e.elapsed = std::chrono::milliseconds(ms);
  return e;
}

std::vector<Event> a_run(int probes) {
  std::vector<Event> events;
  events.push_back(at("run.started", 0)
                       .with("run_id", "r1")
                       .with("experiment", "exp")
                       .with("file", "/x/exp.yaml")
                       .with("file_sha256", "00ff")
                       .with("host", "h")
                       .with("journal", "/x/j.jsonl"));
  for (int i = 0; i < probes; ++i) events.push_back(at("probe.result", i + 1).with("probe", "p").with("ok", true));
  events.push_back(
      at("run.verdict", probes + 1).with("verdict", "deviated").with("exit_code", 1).with("reasons", "probe p failed"));
  return events;
}

TEST(RunRecorder, StoresEveryEventNumberedAsTheJournalAndFinishesTheRun) {
  TempDir dir;
  auto st = store::Store::open(dir.file("results.db"));
  ASSERT_TRUE(st.ok()) << st.error();
  const auto events = a_run(600);  // more than one batch
  {
    RunRecorder recorder(**st, "r1", "name: exp\n");
    for (const Event& e : events) recorder.on_event(e);
    recorder.close();
    EXPECT_FALSE(recorder.failure().has_value()) << *recorder.failure();
  }
  auto row = (*st)->find_run("r1");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->experiment, "exp");
  EXPECT_EQ((*row)->file_text, "name: exp\n");
  EXPECT_EQ((*row)->file_sha256, "00ff");
  EXPECT_EQ((*row)->journal, "/x/j.jsonl");
  EXPECT_EQ((*row)->status, store::RunStatus::finished);
  EXPECT_EQ((*row)->verdict, "deviated");
  EXPECT_EQ((*row)->exit_code, 1);
  EXPECT_EQ((*row)->reasons, "probe p failed");
  EXPECT_EQ((*row)->started, events.front().wall);
  EXPECT_EQ((*row)->ended, events.back().wall);
  auto stored = (*st)->events("r1");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ((*stored)[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ((*stored)[i].line, to_json_line(events[i]));
  }
}

TEST(RunRecorder, StopsAtTheStoresFirstFailureWithoutAGap) {
  TempDir dir;
  auto st = store::Store::open(dir.file("results.db"));
  ASSERT_TRUE(st.ok()) << st.error();
  {
    // A real failure inside the database: every insert of event 300 is refused.
    auto raw = store::open_sqlite(dir.file("results.db"));
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE((*raw)
                    ->run("CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.seq = 300 "
                          "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
                    .ok());
  }
  RunRecorder recorder(**st, "r1", "");
  for (const Event& e : a_run(600)) recorder.on_event(e);
  recorder.close();
  ASSERT_TRUE(recorder.failure().has_value());
  EXPECT_NE(recorder.failure()->find("disk on fire"), std::string::npos) << *recorder.failure();
  auto stored = (*st)->events("r1");
  ASSERT_TRUE(stored.ok());
  EXPECT_LT(stored->size(), 300u);
  for (std::size_t i = 0; i < stored->size(); ++i) EXPECT_EQ((*stored)[i].seq, static_cast<std::int64_t>(i + 1));
  auto row = (*st)->find_run("r1");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, store::RunStatus::running);  // recover finishes it from the journal
}

TEST(RunRecorder, AnEventPublishedAfterCloseIsStillStored) {
  TempDir dir;
  auto st = store::Store::open(dir.file("results.db"));
  ASSERT_TRUE(st.ok()) << st.error();
  const auto events = a_run(2);
  RunRecorder recorder(**st, "r1", "");
  for (const Event& e : events) recorder.on_event(e);
  recorder.close();
  recorder.on_event(at("target.stopped", 99));  // a run being torn down
  auto stored = (*st)->events("r1");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), events.size() + 1);
  EXPECT_EQ(stored->back().seq, static_cast<std::int64_t>(events.size() + 1));
  EXPECT_EQ(stored->back().event.type, "target.stopped");
}

}  // namespace
}  // namespace chaosplus::runner
