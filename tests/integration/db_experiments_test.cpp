// experiments/db-failover.yaml and experiments/db-partition.yaml as written, against the Patroni lab
// in synchronous mode (scripts/services/pg-ha-lab.sh): a crash of the primary and a primary cut off
// from etcd, each under the write workload. Both must end held, with the workload's figures in the
// journal, a different leader afterwards, and the cluster healthy again.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/journal.h"
#include "support/pg_lab.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::Child;
using testing::PgLab;

class DbExperimentsTest : public testing::PgLabTestBase<true> {
 protected:
  struct Run {
    int code = -1;
    std::string output;
    std::string journal;
  };
  // Runs an experiment from the repository's folder (its `restart` and `status` commands are
  // relative to it); the lab script is told the test holds the lab lock.
  Run run(const std::string& experiment, std::map<std::string, std::string> env = {}) {
    Run r;
    env.emplace("CHAOSPLUS_LAB_LOCKED", "1");
    env.emplace("LAB_SCRIPT", PgLab::script());
    r.journal = dir_.file("journal.jsonl");
    Child child({testing::bin("chaosplus"), "run", testing::source_path(experiment), "--plain", "--state-dir",
                 dir_.file("state"), "--journal", r.journal},
                env, testing::source_path(""));
    r.code = child.wait(240s).value_or(-1);
    r.output = child.output();
    return r;
  }

  // The member the fault acted on, from its summary: "crash_node primary node3 (leader, ...)".
  static std::string member_in(const nlohmann::json& injected) {
    std::smatch m;
    const std::string summary = injected.value("summary", "");
    return std::regex_search(summary, m, std::regex("primary (node[0-9]+) \\(leader")) ? m[1].str() : "";
  }

  testing::TempDir dir_;
};

// The file's `rto < 15s` holds here with 2.6-4.3 s to spare (RTO 10.7-12.4 s: the lab's ttl of 12 s is
// most of it); a CI machine busy with other tests may take longer, so the test judges against 20 s
// and checks the threshold was judged with the limit it was given.
TEST_F(DbExperimentsTest, APrimaryCrashFailsOverWithinTheLimitAndLosesNoAcknowledgedWrite) {
  const auto r = run("experiments/db-failover.yaml", {{"RTO_LIMIT", "20s"}});
  ASSERT_EQ(r.code, 0) << r.output;
  const auto injected = journal_events(r.journal, "fault.injected");
  ASSERT_EQ(injected.size(), 1u) << r.output;
  const std::string crashed = member_in(injected[0]);
  ASSERT_FALSE(crashed.empty()) << injected[0].dump();

  const auto summary = journal_events(r.journal, "writes.summary");
  ASSERT_EQ(summary.size(), 1u) << r.output;
  const auto& s = summary[0];
  EXPECT_EQ(s.value("lost", -1), 0) << s.dump();
  EXPECT_EQ(s.value("unexpected", -1), 0) << s.dump();
  EXPECT_EQ(s.value("split_brain", -1), 0) << s.dump();
  EXPECT_GT(s.value("failed", 0) + s.value("unknown", 0), 0) << "the crash never disturbed a write: " << s.dump();
  ASSERT_TRUE(s.contains("rto_ms") && s.contains("promotion_ms")) << s.dump();
  EXPECT_LT(s["rto_ms"].get<double>(), 20000.0) << s.dump();
  EXPECT_GT(s["rto_ms"].get<double>(), 0.0) << s.dump();
  EXPECT_LE(s["promotion_ms"].get<double>(), s["rto_ms"].get<double>()) << s.dump();
  EXPECT_NE(r.output.find("RTO "), std::string::npos) << r.output;  // in the printed summary
  EXPECT_NE(r.output.find("within rto < 20s"), std::string::npos) << r.output;

  // Another member leads now, and the crashed one is back in the cluster.
  ASSERT_TRUE(lab_->wait_healthy(60s)) << lab_->status();
  const auto leader = lab_->leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_NE(PgLab::name_of(*leader), crashed);
}

TEST_F(DbExperimentsTest, APrimaryCutOffFromEtcdStepsDownBeforeAnotherIsPromoted) {
  const auto r = run("experiments/db-partition.yaml");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto injected = journal_events(r.journal, "fault.injected");
  ASSERT_EQ(injected.size(), 1u) << r.output;
  const std::string cut_off = member_in(injected[0]);
  ASSERT_FALSE(cut_off.empty()) << injected[0].dump();

  const auto summary = journal_events(r.journal, "writes.summary");
  ASSERT_EQ(summary.size(), 1u) << r.output;
  const auto& s = summary[0];
  EXPECT_EQ(s.value("split_brain", -1), 0) << s.dump();
  EXPECT_EQ(s.value("lost", -1), 0) << s.dump();
  // The old primary stopped taking writes (the clients saw failures), and a new one was promoted.
  EXPECT_GT(s.value("failed", 0) + s.value("unknown", 0), 0) << s.dump();
  ASSERT_TRUE(s.contains("promotion_ms")) << s.dump();
  // Who acknowledged when: the cut-off member's last period ends before another member's begins.
  std::string cut_host;
  for (const auto& m : PgLab::members()) {
    if (m.name == cut_off) cut_host = m.host;
  }
  const std::string by = s.value("acknowledged_by", "");
  const std::regex period("([0-9.]+) from \\+([0-9.]+)s to \\+([0-9.]+)s");
  double old_last_end = -1, new_first_start = -1;
  for (auto it = std::sregex_iterator(by.begin(), by.end(), period); it != std::sregex_iterator(); ++it) {
    const double from = std::stod((*it)[2]), to = std::stod((*it)[3]);
    if ((*it)[1] == cut_host) {
      old_last_end = std::max(old_last_end, to);
    } else if (new_first_start < 0) {
      new_first_start = from;
    }
  }
  ASSERT_GE(old_last_end, 0) << "the cut-off primary " << cut_host << " acknowledged nothing: " << by;
  ASSERT_GE(new_first_start, 0) << "no other member acknowledged: " << by;
  EXPECT_LT(old_last_end, new_first_start) << by;
  EXPECT_GT(s.value("outage_ms", 0.0), 0.0) << s.dump();

  ASSERT_TRUE(lab_->wait_healthy(60s)) << lab_->status();
  const auto leader = lab_->leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_NE(PgLab::name_of(*leader), cut_off);
  Child nft({"nft", "list", "tables"});
  ASSERT_EQ(nft.wait(10s), 0);
  EXPECT_EQ(nft.output().find("chaosplus"), std::string::npos) << nft.output();
}

}  // namespace
}  // namespace chaosplus
