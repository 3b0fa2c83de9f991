// The write workload against a real PostgreSQL (tests/support/postgres_instance.h): every
// acknowledged write read back; a run whose PostgreSQL is killed with SIGKILL mid-phase and started
// again measures an RTO and loses nothing (fsync and synchronous_commit on); a row deleted behind
// the workload's back is one lost write, and `lost_writes == 0` deviates.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/journal.h"
#include "support/postgres_instance.h"
#include "support/support.h"
#include "writes/history.h"
#include "writes/workload.h"

namespace chaosplus::writes {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::PostgresInstance;

std::string postgres_bin() {
  for (const char* version : {"17", "16", "15"}) {
    const std::string dir = std::string("/usr/lib/postgresql/") + version + "/bin";
    if (std::filesystem::exists(dir + "/postgres")) return dir;
  }
  return {};
}

long long count_rows(const PostgresInstance& pg) {
  const std::string out = pg.psql("SELECT count(*) FROM chaosplus_writes");
  try {
    return std::stoll(out);
  } catch (...) {
    return -1;  // not created yet, or not answering
  }
}

class WritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  }
  int run(const std::string& yaml, std::string* output) {
    const std::string path = dir_.file("experiment.yaml");
    testing::write_file(path, yaml);
    testing::Child c(
        {testing::bin("chaosplus"), "run", path, "--plain", "--state-dir", dir_.file("state"), "--journal", journal()});
    auto code = c.wait(120s);
    *output = c.output();
    return code.value_or(-1);
  }
  std::string journal() const { return dir_.file("journal.jsonl"); }

  testing::TempDir dir_;
};

TEST_F(WritesTest, EveryAcknowledgedWriteIsReadBack) {
  PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  WorkloadOptions o;
  o.dsn = pg.conninfo();
  o.clients = 4;
  o.rate = 200;
  o.duration = 10s;
  Workload workload(o);
  ASSERT_TRUE(workload.prepare().ok());
  workload.start();
  ASSERT_TRUE(testing::wait_until([&] { return count_rows(pg) >= 100; }, 20s)) << count_rows(pg);
  const WorkloadResult r = workload.finish();
  EXPECT_TRUE(r.read_back_error.empty()) << r.read_back_error;
  const Analysis a = analyze(r.history, r.present, r.faults);
  EXPECT_GE(a.acknowledged, 100);
  EXPECT_EQ(a.failed, 0);
  EXPECT_EQ(a.unknown, 0);
  EXPECT_EQ(a.lost, 0);
  EXPECT_EQ(a.unexpected, 0);
  EXPECT_EQ(static_cast<std::int64_t>(r.present.size()), a.acknowledged);
  EXPECT_FALSE(a.rto);
  EXPECT_TRUE(a.split_brain.empty());
  for (const Attempt& attempt : r.history) {
    EXPECT_EQ(attempt.node, "127.0.0.1");
    EXPECT_GE(attempt.id, workload.id_base());
    EXPECT_LE(attempt.invoked, attempt.completed);
  }
  // A second workload into the same table reads back only its own ids.
  Workload second(o);
  ASSERT_TRUE(second.prepare().ok());
  EXPECT_GT(second.id_base(), workload.id_base());
  second.start();
  const auto before = count_rows(pg);
  ASSERT_TRUE(testing::wait_until([&] { return count_rows(pg) >= before + 20; }, 20s));
  const WorkloadResult r2 = second.finish();
  const Analysis a2 = analyze(r2.history, r2.present, r2.faults);
  EXPECT_EQ(a2.unexpected, 0);
  EXPECT_EQ(a2.lost, 0);
  EXPECT_EQ(static_cast<std::int64_t>(r2.present.size()), a2.acknowledged);
}

// PostgreSQL runs as the experiment's `process` target; a kill fault sends SIGKILL to its process
// group 3 s into the phase, and its revert 1 s later starts it again (crash recovery) and waits
// until pg_isready says it accepts connections. setpriv execs postgres as the postgres user (runuser
// would stay its parent: killed with it, it leaves the postmaster an orphan whose pid, until init
// reaps it, keeps the restarted server from taking the data directory's lock).
TEST_F(WritesTest, AKilledAndRestartedPostgresLosesNoAcknowledgedWrite) {
  PostgresInstance::Options options;
  options.settings = {"fsync=on", "synchronous_commit=on"};
  PostgresInstance pg(options);
  ASSERT_TRUE(pg.ok()) << pg.error();
  ASSERT_TRUE(pg.stop());  // the experiment starts it as its target
  const std::string bin = postgres_bin();
  const std::string port = std::to_string(pg.port());
  const std::string history = dir_.file("history.jsonl");
  const std::string yaml =
      "name: writes-crash\ntargets:\n  db:\n    process:\n      command: [/usr/bin/setpriv, "
      "--reuid=postgres, --regid=postgres, --init-groups, --, " +
      bin + "/postgres, -D, " + pg.data_dir() + ", -p, \"" + port +
      "\", -c, listen_addresses=127.0.0.1, -c, \"unix_socket_directories=\", -c, fsync=on, -c, "
      "synchronous_commit=on]\n      ready: { command: [" +
      bin + "/pg_isready, -q, -U, postgres, -h, 127.0.0.1, -p, \"" + port +
      "\"], timeout: 60s }\n"
      "phases:\n  - name: crash\n    duration: 10s\n    faults:\n      - kill: { target: db, at: 3s, "
      "for: 1s }\n    writes:\n      name: orders\n      dsn: \"" +
      pg.conninfo() + "\"\n      clients: 4\n      rate: 100/s\n      timeout: 1s\n      history: " + history +
      "\n      thresholds: [\"rto < 30s\", \"lost_writes == 0\", \"unexpected_writes == 0\", "
      "\"split_brain == 0\", \"acknowledged > 100\"]\n";
  std::string out;
  const int code = run(yaml, &out);
  EXPECT_EQ(code, 0) << out;
  const auto summaries = journal_events(journal(), "writes.summary");
  ASSERT_EQ(summaries.size(), 1u) << out;
  const auto& s = summaries[0];
  EXPECT_TRUE(s.value("read_back", false)) << s.dump();
  EXPECT_EQ(s.value("lost", -1), 0) << s.dump();
  EXPECT_EQ(s.value("unexpected", -1), 0) << s.dump();
  EXPECT_GT(s.value("failed", 0) + s.value("unknown", 0), 0) << "the crash disturbed no write: " << s.dump();
  ASSERT_TRUE(s.contains("rto_ms")) << s.dump();
  // Down for at least the 1 s before the restart; the restart and recovery are quick here.
  EXPECT_GE(s["rto_ms"].get<double>(), 1000) << s.dump();
  EXPECT_LT(s["rto_ms"].get<double>(), 30000) << s.dump();
  EXPECT_EQ(s.value("rto_fault", ""), s.value("rto_fault", "x"));
  EXPECT_NE(s.value("rto_fault", "").find("kill"), std::string::npos) << s.dump();
  std::printf("writes after SIGKILL and restart: %s\n", s.dump().c_str());
  for (const auto& t : journal_events(journal(), "threshold.result")) EXPECT_TRUE(t.value("held", false)) << t.dump();
  EXPECT_NE(out.find("writes orders: "), std::string::npos) << out;
  // In the run's summary too (and so in `chaosplus report`'s, which the Child compares).
  EXPECT_NE(testing::printed_summary(out).find("   writes orders: "), std::string::npos) << out;
  EXPECT_NE(testing::printed_summary(out).find("; RTO "), std::string::npos) << out;
  // Every attempt, then the fault mark, in the history file.
  const auto lines = testing::read_lines(history);
  ASSERT_EQ(static_cast<double>(lines.size()), s.value("attempted", 0.0) + 1);
  const auto mark = nlohmann::json::parse(lines.back());
  EXPECT_GT(mark.value("injected_ms", 0.0), 2500);
  const auto first = nlohmann::json::parse(lines.front());
  EXPECT_EQ(first.value("outcome", ""), "ok");
  EXPECT_TRUE(first.value("committed", false));
}

TEST_F(WritesTest, ARowDeletedBehindTheWorkloadsBackIsOneLostWrite) {
  PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  const std::string yaml =
      "name: writes-lost\nphases:\n  - name: steady\n    duration: 6s\n    writes:\n"
      "      name: orders\n      dsn: \"" +
      pg.conninfo() +
      "\"\n      clients: 2\n      rate: 100/s\n      thresholds: [\"lost_writes == 0\", "
      "\"unexpected_writes == 0\"]\n";
  const std::string path = dir_.file("experiment.yaml");
  testing::write_file(path, yaml);
  testing::Child c(
      {testing::bin("chaosplus"), "run", path, "--plain", "--state-dir", dir_.file("state"), "--journal", journal()});
  ASSERT_TRUE(testing::wait_until([&] { return count_rows(pg) >= 50; }, 30s)) << c.output();
  // The oldest row: acknowledged long ago.
  const std::string deleted =
      pg.psql("DELETE FROM chaosplus_writes WHERE id = (SELECT min(id) FROM chaosplus_writes) RETURNING id");
  ASSERT_EQ(deleted.find("ERROR"), std::string::npos) << deleted;
  const auto code = c.wait(60s);
  const std::string out = c.output();
  EXPECT_EQ(code, 1) << out;  // deviated
  const auto summaries = journal_events(journal(), "writes.summary");
  ASSERT_EQ(summaries.size(), 1u) << out;
  EXPECT_EQ(summaries[0].value("lost", -1), 1) << summaries[0].dump();
  EXPECT_EQ(summaries[0].value("lost_ids", ""), deleted) << summaries[0].dump();
  EXPECT_EQ(summaries[0].value("unexpected", -1), 0) << summaries[0].dump();
  EXPECT_EQ(summaries[0].value("rpo_span_ms", -1.0), 0.0) << summaries[0].dump();
  bool lost_judged = false;
  for (const auto& t : journal_events(journal(), "threshold.result")) {
    if (t.value("metric", "") == "writes.orders.lost_writes") {
      lost_judged = true;
      EXPECT_FALSE(t.value("held", true)) << t.dump();
      EXPECT_EQ(t.value("measured", 0.0), 1.0) << t.dump();
    } else {
      EXPECT_TRUE(t.value("held", false)) << t.dump();
    }
  }
  EXPECT_TRUE(lost_judged) << out;
  EXPECT_NE(out.find("lost_writes = 1, NOT within lost_writes == 0"), std::string::npos) << out;
}

}  // namespace
}  // namespace chaosplus::writes
