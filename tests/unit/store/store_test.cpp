// The results store's behaviour, the same tests against SQLite and against a real PostgreSQL 15
// (one server per test program, a database per test).
#include "store/store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <map>
#include <memory>

#include "core/event_json.h"
#include "store/sql_connection.h"
#include "support/postgres_instance.h"
#include "support/support.h"

namespace chaosplus::store {
namespace {

using namespace std::chrono_literals;
using testing::PostgresInstance;
using testing::TempDir;

// Started at the first PostgreSQL test, stopped when the program ends.
PostgresInstance& shared_postgres() {
  static PostgresInstance instance;
  return instance;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      location_ = dir_.file("state/results.db");
    } else {
      if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
      PostgresInstance& pg = shared_postgres();
      ASSERT_TRUE(pg.ok()) << pg.error();
      static std::atomic<int> counter{0};
      const std::string name = "store_test_" + std::to_string(++counter);
      ASSERT_EQ(pg.psql("CREATE DATABASE " + name), "");
      location_ = "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/" + name;
    }
    auto opened = Store::open(location_);
    ASSERT_TRUE(opened.ok()) << opened.error();
    store_ = std::move(opened).value();
  }

  // A raw connection to the same database, to do what chaosplus never does (plant a newer schema).
  std::unique_ptr<SqlConnection> raw() {
    auto c = GetParam() == "sqlite" ? open_sqlite(location_) : open_postgresql(location_);
    EXPECT_TRUE(c.ok()) << c.error();
    return c ? std::move(c).value() : nullptr;
  }

  static WallTime at(int minutes) { return WallTime(std::chrono::hours(493'000) + std::chrono::minutes(minutes)); }

  RunRow run(const std::string& id, const std::string& experiment, int minute) {
    RunRow r;
    r.run_id = id;
    r.experiment = experiment;
    r.file = "/exp/" + experiment + ".yaml";
    r.file_text = "name: " + experiment + "\nphases: []\n";
    r.file_sha256 = "abc123";
    r.journal = "/runs/" + id + ".jsonl";
    r.host = "testhost";
    r.started = at(minute);
    return r;
  }

  void add_finished(const std::string& id, const std::string& experiment, int minute, const std::string& verdict) {
    RunRow r = run(id, experiment, minute);
    ASSERT_TRUE(store_->begin_run(r).ok());
    r.status = RunStatus::finished;
    r.verdict = verdict;
    r.exit_code = verdict == "held" ? 0 : 1;
    r.ended = at(minute + 1);
    ASSERT_TRUE(store_->finish_run(r).ok());
  }

  static Event event(const std::string& type, int elapsed_ms) {
    Event e(type);
    e.wall = at(0) + std::chrono::milliseconds(elapsed_ms);
    e.elapsed = std::chrono::milliseconds(elapsed_ms);
    return e;
  }

  static std::vector<StoredEvent> numbered(std::vector<Event> events, std::int64_t first = 1) {
    std::vector<StoredEvent> out;
    for (auto& e : events) out.push_back({first++, std::move(e), {}});
    return out;
  }

  TempDir dir_;
  std::string location_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, ReadsBackTheEventsItWasGivenInOrder) {
  RunRow r = run("20261206T161700Z-aaaaaa", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  std::vector<Event> events = {
      event("run.started", 0).with("run_id", r.run_id).with("checks", true).with("pid", 4242),
      event("probe.result", 250)
          .with("probe", "home")
          .with("ok", false)
          .with("latency_ms", 12.5)
          .with("detail", "line\nbreak \"quoted\" ünïcode"),
      event("run.verdict", 9000).with("verdict", "held").with("exit_code", 0).with("reasons", ""),
  };
  ASSERT_TRUE(store_->append_events(r.run_id, numbered(events)).ok());
  r.status = RunStatus::finished;
  r.verdict = "held";
  r.exit_code = 0;
  r.reasons = "all good; really";
  r.ended = at(2);
  ASSERT_TRUE(store_->finish_run(r).ok());

  auto back = store_->events(r.run_id);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->size(), 3u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const StoredEvent& s = (*back)[i];
    EXPECT_EQ(s.seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(s.event.type, events[i].type);
    EXPECT_EQ(s.event.wall, events[i].wall);
    EXPECT_EQ(s.event.elapsed, events[i].elapsed);
    EXPECT_EQ(s.event.fields, events[i].fields) << s.line;
    EXPECT_EQ(s.line, to_json_line(events[i]));
  }
  auto later = store_->events(r.run_id, 1, 1);
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ(later->front().seq, 2);

  auto row = store_->find_run(r.run_id);
  ASSERT_TRUE(row.ok() && row->has_value());
  const RunRow& got = **row;
  EXPECT_EQ(got.experiment, "quickstart");
  EXPECT_EQ(got.file, r.file);
  EXPECT_EQ(got.file_text, r.file_text);
  EXPECT_EQ(got.file_sha256, "abc123");
  EXPECT_EQ(got.journal, r.journal);
  EXPECT_EQ(got.host, "testhost");
  EXPECT_EQ(got.status, RunStatus::finished);
  EXPECT_EQ(got.verdict, "held");
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_EQ(got.reasons, "all good; really");
  EXPECT_EQ(got.started, r.started);
  EXPECT_EQ(got.ended, r.ended);
  EXPECT_EQ(got.events, 3);
}

TEST_P(StoreTest, KeepsTheJournalLineItIsGiven) {
  RunRow r = run("r-line", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  const std::string line = R"({"time":"2026-03-01T10:00:00.000Z","elapsed_ms":1,"type":"x.y","n":null,"b":2})";
  auto parsed = parse_event_json(line);
  ASSERT_TRUE(parsed.ok());
  std::vector<StoredEvent> one{{1, *parsed, line}};
  ASSERT_TRUE(store_->append_events(r.run_id, one).ok());
  auto back = store_->events(r.run_id);
  ASSERT_TRUE(back.ok() && back->size() == 1);
  EXPECT_EQ(back->front().line, line);
  EXPECT_EQ(back->front().event.number("b"), 2);
}

TEST_P(StoreTest, AppendingAgainSkipsTheSeqsAlreadyStored) {
  RunRow r = run("r-idem", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  std::vector<Event> all;
  for (int i = 0; i < 6; ++i) all.push_back(event("probe.result", i * 100).with("probe", "p").with("ok", true));
  auto stored = numbered(all);
  ASSERT_TRUE(store_->append_events(r.run_id, std::span(stored).subspan(0, 3)).ok());
  // A replay of the whole journal after a crash: 1..3 again, then 4..6.
  ASSERT_TRUE(store_->append_events(r.run_id, stored).ok());
  ASSERT_TRUE(store_->append_events(r.run_id, std::span(stored).subspan(4, 2)).ok());
  auto back = store_->events(r.run_id);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ((*back)[i].seq, static_cast<std::int64_t>(i + 1));
  auto points = store_->metrics(r.run_id, "probe.p.success");
  ASSERT_TRUE(points.ok());
  EXPECT_EQ(points->size(), 6u);  // one per event, none twice
  auto row = store_->find_run(r.run_id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->events, 6);
}

TEST_P(StoreTest, BeginningARunAgainKeepsItsRow) {
  RunRow r = run("r-again", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  ASSERT_TRUE(store_->set_status(r.run_id, RunStatus::interrupted).ok());
  ASSERT_TRUE(store_->begin_run(r).ok());
  auto row = store_->find_run(r.run_id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, RunStatus::interrupted);
}

TEST_P(StoreTest, HistoryIsNewestFirstAndFilters) {
  add_finished("r1", "alpha", 0, "held");
  add_finished("r2", "beta", 10, "deviated");
  add_finished("r3", "alpha", 20, "deviated");
  RunRow running = run("r4", "alpha", 30);
  ASSERT_TRUE(store_->begin_run(running).ok());

  const auto ids = [&](const HistoryFilter& f) {
    std::vector<std::string> out;
    auto h = store_->history(f);
    EXPECT_TRUE(h.ok()) << h.error();
    if (h) {
      for (const auto& r : *h) out.push_back(r.run_id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  HistoryFilter f;
  EXPECT_EQ(ids(f), (V{"r4", "r3", "r2", "r1"}));
  f.experiment = "alpha";
  EXPECT_EQ(ids(f), (V{"r4", "r3", "r1"}));
  f.verdict = "deviated";
  EXPECT_EQ(ids(f), (V{"r3"}));
  f.experiment.clear();
  EXPECT_EQ(ids(f), (V{"r3", "r2"}));
  f = HistoryFilter{};
  f.status = RunStatus::running;
  EXPECT_EQ(ids(f), (V{"r4"}));
  f.status = RunStatus::finished;
  EXPECT_EQ(ids(f), (V{"r3", "r2", "r1"}));
  f = HistoryFilter{};
  f.since = at(10);
  EXPECT_EQ(ids(f), (V{"r4", "r3", "r2"}));
  f = HistoryFilter{};
  f.until = at(10);
  EXPECT_EQ(ids(f), (V{"r1"}));
  f.since = at(5);
  f.until = at(25);
  EXPECT_EQ(ids(f), (V{"r3", "r2"}));
  f = HistoryFilter{};
  f.limit = 2;
  EXPECT_EQ(ids(f), (V{"r4", "r3"}));
  f = HistoryFilter{};
  f.experiment = "nobody";
  EXPECT_EQ(ids(f), V{});
}

TEST_P(StoreTest, FindsARunByAUniquePrefix) {
  add_finished("20261206T101010Z-abc111", "alpha", 0, "held");
  add_finished("20261206T101010Z-abd222", "alpha", 1, "held");
  add_finished("20261207T090000Z-fff333", "alpha", 2, "held");

  auto unique = store_->find_run("20261207");
  ASSERT_TRUE(unique.ok()) << unique.error();
  ASSERT_TRUE(unique->has_value());
  EXPECT_EQ((*unique)->run_id, "20261207T090000Z-fff333");

  auto longer = store_->find_run("20261206T101010Z-abd");
  ASSERT_TRUE(longer.ok() && longer->has_value());
  EXPECT_EQ((*longer)->run_id, "20261206T101010Z-abd222");

  auto ambiguous = store_->find_run("20261206T101010Z-ab");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error().find("ambiguous"), std::string::npos) << ambiguous.error();
  EXPECT_NE(ambiguous.error().find("20261206T101010Z-abc111"), std::string::npos) << ambiguous.error();

  auto none = store_->find_run("1999");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto wildcard = store_->find_run("2026%");
  ASSERT_TRUE(wildcard.ok());
  EXPECT_FALSE(wildcard->has_value());
}

TEST_P(StoreTest, PreviousRunIsTheLastFinishedOfTheSameExperimentBefore) {
  add_finished("a1", "alpha", 0, "held");
  add_finished("b1", "beta", 5, "held");
  add_finished("a2", "alpha", 10, "deviated");
  RunRow interrupted = run("a3", "alpha", 15);
  ASSERT_TRUE(store_->begin_run(interrupted).ok());
  ASSERT_TRUE(store_->set_status("a3", RunStatus::interrupted).ok());
  add_finished("a4", "alpha", 20, "held");

  auto row = store_->find_run("a4");
  ASSERT_TRUE(row.ok() && row->has_value());
  auto prev = store_->previous_run(**row);
  ASSERT_TRUE(prev.ok()) << prev.error();
  ASSERT_TRUE(prev->has_value());
  EXPECT_EQ((*prev)->run_id, "a2");  // a3 never finished

  auto first = store_->find_run("a1");
  ASSERT_TRUE(first.ok() && first->has_value());
  auto none = store_->previous_run(**first);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreTest, DerivesMetricsFaultsAndFindingsFromTheEvents) {
  RunRow r = run("r-derived", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  std::vector<Event> events = {
      event("probe.result", 100).with("probe", "home").with("ok", true).with("latency_ms", 4.5),
      event("fault.injected", 200)
          .with("fault", "latency")
          .with("target", "api")
          .with("summary", "latency 300ms on api")
          .with("phase", "degrade")
          .with("ledger_id", 7),
      event("load.tick", 1200)
          .with("load", "checkout")
          .with("second", 0)
          .with("from_ms", 200.0)
          .with("rps", 50.0)
          .with("errors", 2)
          .with("p50_ms", 310.0)
          .with("p99_ms", 480.5),
      event("probe.result", 1500).with("probe", "home").with("ok", false),
      event("fault.reverted", 3000)
          .with("fault", "latency")
          .with("target", "api")
          .with("ok", false)
          .with("ledger_id", 7)
          .with("error", "rule still there"),
      event("fuzz.finding", 3500)
          .with("id", "F0123456789")
          .with("engine", "fuzz")
          .with("severity", "high")
          .with("title", "500 on POST /orders"),
      event("security.finding", 3600).with("id", "F9999999999").with("severity", "low").with("title", "no HSTS"),
  };
  ASSERT_TRUE(store_->append_events(r.run_id, numbered(events)).ok());

  auto probes = store_->metrics(r.run_id, "probe.");
  ASSERT_TRUE(probes.ok()) << probes.error();
  ASSERT_EQ(probes->size(), 3u);
  EXPECT_EQ((*probes)[0].name, "probe.home.latency_ms");
  EXPECT_DOUBLE_EQ((*probes)[0].value, 4.5);
  EXPECT_EQ((*probes)[1].name, "probe.home.success");
  EXPECT_DOUBLE_EQ((*probes)[1].value, 1);
  EXPECT_DOUBLE_EQ((*probes)[1].elapsed_ms, 100);
  EXPECT_EQ((*probes)[2].name, "probe.home.success");
  EXPECT_DOUBLE_EQ((*probes)[2].value, 0);
  EXPECT_EQ((*probes)[2].seq, 4);

  auto load = store_->metrics(r.run_id, "load.checkout.");
  ASSERT_TRUE(load.ok());
  std::map<std::string, double> by_name;
  for (const auto& p : *load) by_name[p.name] = p.value;
  EXPECT_EQ(by_name, (std::map<std::string, double>{{"load.checkout.errors", 2},
                                                    {"load.checkout.p50_ms", 310},
                                                    {"load.checkout.p99_ms", 480.5},
                                                    {"load.checkout.rps", 50}}));

  auto faults = store_->faults(r.run_id);
  ASSERT_TRUE(faults.ok()) << faults.error();
  ASSERT_EQ(faults->size(), 1u);
  const FaultRow& f = faults->front();
  EXPECT_EQ(f.seq, 2);
  EXPECT_EQ(f.kind, "latency");
  EXPECT_EQ(f.target, "api");
  EXPECT_EQ(f.summary, "latency 300ms on api");
  EXPECT_EQ(f.phase, "degrade");
  EXPECT_EQ(f.ledger_id, "7");
  EXPECT_EQ(f.injected_at, events[1].wall);
  EXPECT_DOUBLE_EQ(f.injected_ms, 200);
  ASSERT_TRUE(f.reverted_at.has_value());
  EXPECT_EQ(*f.reverted_at, events[4].wall);
  EXPECT_DOUBLE_EQ(f.reverted_ms, 3000);
  EXPECT_EQ(f.revert_ok, false);
  EXPECT_EQ(f.revert_error, "rule still there");

  auto findings = store_->findings(r.run_id);
  ASSERT_TRUE(findings.ok()) << findings.error();
  ASSERT_EQ(findings->size(), 2u);
  EXPECT_EQ((*findings)[0].source, "fuzz");
  EXPECT_EQ((*findings)[0].id, "F0123456789");
  EXPECT_EQ((*findings)[0].severity, "high");
  EXPECT_EQ((*findings)[0].title, "500 on POST /orders");
  EXPECT_EQ((*findings)[0].json, to_json_line(events[5]));
  EXPECT_EQ((*findings)[1].source, "security");
}

TEST_P(StoreTest, AFaultNotYetRevertedHasNoRevertTime) {
  RunRow r = run("r-open", "quickstart", 0);
  ASSERT_TRUE(store_->begin_run(r).ok());
  std::vector<Event> events = {event("fault.injected", 5).with("fault", "kill").with("ledger_id", 1)};
  ASSERT_TRUE(store_->append_events(r.run_id, numbered(events)).ok());
  auto faults = store_->faults(r.run_id);
  ASSERT_TRUE(faults.ok() && faults->size() == 1);
  EXPECT_FALSE(faults->front().reverted_at.has_value());
  EXPECT_FALSE(faults->front().revert_ok.has_value());
}

TEST_P(StoreTest, MigratesAnEmptyDatabaseOnceAndReopensIt) {
  auto c = raw();
  ASSERT_TRUE(c);
  auto versions = c->run("SELECT version FROM schema_version ORDER BY version");
  ASSERT_TRUE(versions.ok()) << versions.error();
  ASSERT_EQ(versions->rows.size(), static_cast<std::size_t>(schema_version()));
  EXPECT_EQ(versions->rows.back()[0], std::to_string(schema_version()));
  add_finished("kept", "alpha", 0, "held");
  store_.reset();
  auto again = Store::open(location_);
  ASSERT_TRUE(again.ok()) << again.error();
  auto row = (*again)->find_run("kept");
  ASSERT_TRUE(row.ok() && row->has_value());
  auto still = c->run("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->rows[0][0], std::to_string(schema_version()));
}

TEST_P(StoreTest, RefusesAStoreOfANewerSchemaVersion) {
  auto c = raw();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->run("INSERT INTO schema_version (version) VALUES ($1)", {std::int64_t{schema_version() + 5}}).ok());
  store_.reset();
  auto refused = Store::open(location_);
  ASSERT_FALSE(refused.ok());
  const std::string newer = std::to_string(schema_version() + 5);
  EXPECT_NE(refused.error().find("schema version " + newer), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("newer than this chaosplus"), std::string::npos) << refused.error();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& backend) { return backend.param; });

TEST(StoreOpen, RefusesAPostgresqlHostThatIsNotLoopbackBeforeConnecting) {
  auto refused = Store::open("postgresql://someone:secret@192.0.2.10:5432/results");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("192.0.2.10"), std::string::npos) << refused.error();
  EXPECT_EQ(refused.error().find("secret"), std::string::npos) << refused.error();
  EXPECT_EQ(refused.code(), ErrorCode::invalid_argument);
}

TEST(StoreOpen, NamesAPostgresqlServerThatDoesNotAnswer) {
  const int port = testing::free_port();
  auto refused = Store::open("postgres://u:pw@127.0.0.1:" + std::to_string(port) + "/results");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("postgresql u@127.0.0.1:" + std::to_string(port) + "/results"), std::string::npos)
      << refused.error();
  EXPECT_EQ(refused.error().find("pw"), std::string::npos) << refused.error();
}

TEST(StoreOpen, RefusesAnUnknownScheme) {
  auto refused = Store::open("mysql://127.0.0.1/results");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("mysql://"), std::string::npos) << refused.error();
}

TEST(StoreOpen, NamesAFileThatIsNotADatabase) {
  TempDir dir;
  testing::write_file(dir.file("notes.txt"), "these are not the tables you are looking for\n");
  auto refused = Store::open("sqlite:" + dir.file("notes.txt"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find(dir.file("notes.txt")), std::string::npos) << refused.error();
}

TEST(StoreOpen, NamesAFolderThatCannotBeMade) {
  TempDir dir;
  testing::write_file(dir.file("file"), "x");
  auto refused = Store::open(dir.file("file/sub/results.db"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find(dir.file("file")), std::string::npos) << refused.error();
}

TEST(StoreOpen, MakesItsFoldersPrivate) {
  TempDir dir;
  auto opened = Store::open(dir.file("a/b/results.db"));
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_EQ((*opened)->describe(), "sqlite " + dir.file("a/b/results.db"));
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(RunStatusText, RoundTrips) {
  for (RunStatus s : {RunStatus::running, RunStatus::finished, RunStatus::interrupted, RunStatus::recovered}) {
    EXPECT_EQ(parse_run_status(to_string(s)), s);
  }
  EXPECT_FALSE(parse_run_status("crashed").has_value());
  EXPECT_EQ(default_location("/var/state"), "/var/state/results.db");
}

}  // namespace
}  // namespace chaosplus::store
