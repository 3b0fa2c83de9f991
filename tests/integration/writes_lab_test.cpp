// The write workload against the Patroni lab (tests/support/pg_lab.h) in synchronous mode: the
// leader's node crashes (SIGKILL to its Patroni and its postmaster) under the writes; a replica is
// promoted, the clients find it through the multi-host connection string, and the analysis times
// the RTO and the promotion (from the members' /primary answers) and finds no acknowledged write
// lost and no split brain.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/pg_lab.h"
#include "support/support.h"
#include "writes/history.h"
#include "writes/workload.h"

namespace chaosplus::writes {
namespace {

using namespace std::chrono_literals;
using testing::PgLab;

pid_t pid_in(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

// The processes whose parent is `parent` (PostgreSQL's backends, walsenders, checkpointer...).
std::vector<pid_t> children(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

long long rows(const std::string& table) {
  const auto r = PgLab::run_sql_dsn(PgLab::dsn(), "SELECT count(*) FROM " + table, 5s);
  if (r.exit_code != 0) return -1;
  try {
    return std::stoll(r.output);
  } catch (...) {
    return -1;
  }
}

class WritesLabTest : public testing::PgLabTestBase<true> {
 protected:
};

TEST_F(WritesLabTest, ALeaderNodeCrashIsTimedAndLosesNoAcknowledgedWrite) {
  WorkloadOptions o;
  o.dsn = PgLab::dsn();
  o.table = "writes_lab";
  o.clients = 4;
  o.rate = 100;
  o.timeout = 2s;
  o.duration = 120s;
  o.patroni = PgLab::apis();
  Workload workload(o);
  ASSERT_TRUE(workload.prepare().ok());
  workload.start();
  ASSERT_TRUE(testing::wait_until([] { return rows("writes_lab") >= 200; }, 60s)) << lab_->status();

  const auto leader = lab_->leader();
  ASSERT_TRUE(leader);
  const std::string node = PgLab::name_of(*leader);
  const pid_t patroni = pid_in(lab_->lab_dir() + "/" + node + "/patroni.pid");
  const pid_t postmaster = pid_in(lab_->lab_dir() + "/" + node + "/data/postmaster.pid");
  ASSERT_GT(patroni, 0);
  ASSERT_GT(postmaster, 0);
  const long long before_crash = rows("writes_lab");
  // The node crashes: Patroni first, so that it cannot restart its PostgreSQL. The fault is noted
  // once done, as the runner publishes fault.injected: a write invoked between the note and the
  // kill could still succeed on the old leader and pass for a recovery.
  const std::vector<pid_t> backends = children(postmaster);  // each in a session of its own
  ASSERT_EQ(::kill(patroni, SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  for (pid_t pid : backends) ::kill(pid, SIGKILL);
  ASSERT_TRUE(testing::wait_until([&] {
    for (pid_t pid : backends)
      if (!testing::pid_gone(pid)) return false;
    return testing::pid_gone(postmaster);
  }));
  workload.note_fault("crash " + node);

  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto now = lab_->leader();
        return now && *now != *leader;
      },
      90s))
      << lab_->status();
  // A hundred writes on the new primary.
  ASSERT_TRUE(testing::wait_until([&] { return rows("writes_lab") >= before_crash + 100; }, 60s)) << lab_->status();
  const WorkloadResult r = workload.finish();
  ASSERT_TRUE(r.read_back_error.empty()) << r.read_back_error;
  const Analysis a = analyze(r.history, r.present, r.faults);
  std::printf(
      "leader %s crashed: %lld attempted, %lld acknowledged, %lld failed, %lld unknown, lost %lld, rto %.3fs, "
      "promotion %.3fs, reconnection %.3fs\n",
      node.c_str(), static_cast<long long>(a.attempted), static_cast<long long>(a.acknowledged),
      static_cast<long long>(a.failed), static_cast<long long>(a.unknown), static_cast<long long>(a.lost),
      a.rto ? std::chrono::duration<double>(*a.rto).count() : -1.0,
      a.promotion ? std::chrono::duration<double>(*a.promotion).count() : -1.0,
      a.reconnection ? std::chrono::duration<double>(*a.reconnection).count() : -1.0);
  EXPECT_EQ(a.lost, 0) << "first lost id " << (a.lost_ids.empty() ? 0 : a.lost_ids.front());
  EXPECT_EQ(a.unexpected, 0);
  EXPECT_TRUE(a.split_brain.empty()) << a.split_brain.front();
  EXPECT_GT(a.failed + a.unknown, 0) << "the crash disturbed no write";
  ASSERT_TRUE(a.rto);
  ASSERT_TRUE(a.promotion) << "no new primary answered /primary";
  EXPECT_LE(*a.promotion, *a.rto + 1s);  // the clients cannot write before a new primary runs
  EXPECT_LT(*a.rto, 60s);
  // The acknowledgements came from the old leader, then from the new one.
  bool old_node = false, new_node = false;
  for (const Attempt& attempt : r.history) {
    if (attempt.outcome != Outcome::ok) continue;
    old_node = old_node || attempt.node == *leader;
    new_node = new_node || attempt.node == *lab_->leader();
  }
  EXPECT_TRUE(old_node);
  EXPECT_TRUE(new_node);

  // Back to three members for the next test.
  EXPECT_EQ(lab_->script_run({"start-node", node}).exit_code, 0);
  EXPECT_TRUE(lab_->wait_healthy(120s)) << lab_->status();
}

// The same failover through `chaosplus run`: a `crash_node` fault on the `patroni` target that
// resolves to the primary, the writes block with the members' APIs; the fault reaches the workload
// as fault.injected, the figures reach the journal and the summary.
TEST_F(WritesLabTest, ARunWithACrashedPrimaryReportsItsRtoAndPromotion) {
  testing::TempDir dir;
  std::string apis;
  for (const auto& api : PgLab::apis()) apis += (apis.empty() ? "\"" : ", \"") + api + "\"";
  const std::string yaml =
      "name: writes-lab-run\ntargets:\n  primary:\n    patroni:\n      apis: [" + apis +
      "]\n      role: primary\n      restart: [" + PgLab::script() +
      ", start-node, \"{member}\"]\nphases:\n  - name: crash\n    duration: 45s\n    faults:\n"
      "      - crash_node: { target: primary, at: 5s, for: 25s }\n    writes:\n      name: orders\n      dsn: \"" +
      PgLab::dsn() + "\"\n      table: writes_lab_run\n      clients: 4\n      rate: 50/s\n      patroni: [" + apis +
      "]\n      thresholds: [\"rto < 40s\", \"promotion < 40s\", \"lost_writes == 0\", \"unexpected_writes == 0\", "
      "\"split_brain == 0\"]\n";
  const std::string path = dir.file("experiment.yaml");
  testing::write_file(path, yaml);
  // The test holds the lab lock: the fault's restart (start-node) must not wait for it.
  testing::Child run({testing::bin("chaosplus"), "run", path, "--plain", "--state-dir", dir.file("state"), "--journal",
                      dir.file("journal.jsonl")},
                     {{"CHAOSPLUS_LAB_LOCKED", "1"}, {"SYNC", "1"}, {"LAB_DIR", lab_->lab_dir()}});
  const auto code = run.wait(300s);
  const std::string out = run.output();
  EXPECT_EQ(code, 0) << out;
  nlohmann::json summary;
  for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "writes.summary") summary = j;
  }
  ASSERT_FALSE(summary.is_null()) << out;
  std::printf("run: %s\n", summary.dump().c_str());
  EXPECT_EQ(summary.value("lost", -1), 0) << summary.dump();
  EXPECT_EQ(summary.value("split_brain", -1), 0) << summary.dump();
  EXPECT_TRUE(summary.contains("rto_ms")) << summary.dump();
  EXPECT_TRUE(summary.contains("promotion_ms")) << summary.dump();
  EXPECT_NE(summary.value("rto_fault", "").find("crash_node"), std::string::npos) << summary.dump();
  EXPECT_NE(testing::printed_summary(out).find("writes orders: "), std::string::npos) << out;
  EXPECT_TRUE(lab_->wait_healthy(120s)) << lab_->status();
}

}  // namespace
}  // namespace chaosplus::writes
