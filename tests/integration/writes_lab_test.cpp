// The write workload against the Patroni lab (tests/support/pg_lab.h) in synchronous mode: the
// leader's node crashes (SIGKILL to its Patroni and its postmaster) under the writes; a replica is
// promoted, the clients find it through the multi-host connection string, and the analysis times
// the RTO and the promotion (from the members' /primary answers) and finds no acknowledged write
// lost and no split brain.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

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

long long rows(const std::string& table) {
  const auto r = PgLab::run_sql_dsn(PgLab::dsn(), "SELECT count(*) FROM " + table, 5s);
  if (r.exit_code != 0) return -1;
  try {
    return std::stoll(r.output);
  } catch (...) {
    return -1;
  }
}

class WritesLabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PgLab::missing().empty()) return;
    lab_ = std::make_unique<PgLab>(/*sync=*/true);
    lab_error_ = lab_->up();
  }
  static void TearDownTestSuite() {
    if (lab_) lab_->down();
    lab_.reset();
  }
  void SetUp() override {
    if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(lab_error_, "");
    ASSERT_TRUE(lab_->wait_healthy(120s)) << lab_->status();
  }
  static inline std::unique_ptr<PgLab> lab_;
  static inline std::string lab_error_;
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
  // The node crashes: Patroni first, so that it cannot restart its PostgreSQL.
  workload.note_fault("crash " + node);
  ASSERT_EQ(::kill(patroni, SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);

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
  std::printf("leader %s crashed: %lld attempted, %lld acknowledged, %lld failed, %lld unknown, lost %lld, rto %.3fs, "
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

}  // namespace
}  // namespace chaosplus::writes
