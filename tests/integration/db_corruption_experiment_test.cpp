// experiments/db-corruption.yaml as written, against the Patroni lab (scripts/services/pg-ha-lab.sh,
// synchronous mode): two pages of a table's file on the primary are flipped and its PostgreSQL
// restarted; PostgreSQL's checksums refuse the pages (the application's reads fail with SQLSTATE
// XX001, pg_amcheck reports them, pg_stat_database counts them) and never return a wrong row; a
// switchover to a replica restores correct reads; the revert gives the old primary's file every byte
// back (its SHA-256 equal to the one recorded before the corruption, computed here again). The run
// deviates (exit code 1): reads failed until the switchover.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "faults/file_pages.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/journal.h"
#include "support/pg_lab.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::Child;
using testing::PgLab;

constexpr const char* kRowsMd5 = "ebd94a02a7530a187f17159e86103040";  // the experiment's 3000 rows
constexpr const char* kRowsQuery =
    "SELECT md5(string_agg(id || ',' || customer || ',' || total, ';' ORDER BY id)) FROM corruption_orders";

std::optional<nlohmann::json> injected(const std::vector<nlohmann::json>& all, const std::string& fault) {
  for (const auto& e : all) {
    if (e.value("fault", "") == fault) return e;
  }
  return std::nullopt;
}

// The data.corrupt entry of the run's ledger: the file, its SHA-256 before and after the flips.
nlohmann::json recorded_corruption(const std::string& state_dir) {
  auto ledger = runner::Ledger::open(runner::ledger_path(state_dir));
  EXPECT_TRUE(ledger.ok()) << ledger.error();
  if (!ledger.ok()) return {};
  auto entries = (*ledger)->entries("");
  EXPECT_TRUE(entries.ok());
  if (!entries.ok()) return {};
  for (const auto& e : *entries) {
    if (e.kind == "data.corrupt") return nlohmann::json::parse(e.record).value("corruption", nlohmann::json());
  }
  ADD_FAILURE() << "no data.corrupt entry in the ledger";
  return {};
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class DbCorruptionExperimentTest : public testing::PgLabTestBase<true> {
 protected:
  testing::TempDir dir_;
};

TEST_F(DbCorruptionExperimentTest, ChecksumsRefuseTheDamagedPagesASwitchoverRestoresReadsAndEveryByteComesBack) {
  const auto leader_before = lab_->leader();
  ASSERT_TRUE(leader_before.has_value());
  const std::string state = dir_.file("state");
  const std::string journal = dir_.file("journal.jsonl");
  // From the repository's folder (the lab script's path is relative to it); the lab script is told
  // that this test holds the lab lock.
  Child child({testing::bin("chaosplus"), "run", testing::source_path("experiments/db-corruption.yaml"), "--plain",
               "--state-dir", state, "--journal", journal},
              {{"CHAOSPLUS_LAB_LOCKED", "1"}, {"LAB_SCRIPT", PgLab::script()}}, testing::source_path(""));
  const auto code = child.wait(240s);
  const std::string output = child.output();
  ASSERT_TRUE(code.has_value()) << output;
  EXPECT_EQ(*code, 1) << "deviated: the application's reads failed until the switchover\n" << output;

  // The three faults, on the member that led before the run.
  const auto faults = journal_events(journal, "fault.injected");
  const auto corrupt = injected(faults, "corrupt");
  const auto kill = injected(faults, "kill");
  const auto switchover = injected(faults, "switchover");
  ASSERT_TRUE(corrupt && kill && switchover) << output;
  const std::string member = PgLab::name_of(*leader_before);
  EXPECT_NE(kill->value("summary", "").find("kill primary " + member + " with SIGINT"), std::string::npos)
      << kill->dump();
  const auto c = recorded_corruption(state);
  ASSERT_TRUE(c.is_object());
  const std::string file = c.value("path", "");
  EXPECT_NE(file.find("/" + member + "/data/base/"), std::string::npos) << file << " is not in " << member;

  // Detection: reads through the application's path fail with PostgreSQL's checksum error, and a
  // failing read is never a wrong answer (every failure is a refused connection or the damage). The
  // damage stays until the switchover: no read passes between the first and the last refusal.
  struct Read {
    double at;
    bool ok;
    bool damaged;
  };
  std::vector<Read> reads;
  std::string detection, amcheck_detail;
  for (const auto& p : journal_events(journal, "probe.result")) {
    if (p.value("stage", "") != "during" || p.value("ok", true)) continue;
    const std::string detail = p.value("detail", "");
    if (p.value("probe", "") == "amcheck" && detail.find("invalid page in block") != std::string::npos) {
      amcheck_detail = detail;
    }
  }
  for (const auto& p : journal_events(journal, "probe.result")) {
    if (p.value("stage", "") != "during" || p.value("probe", "") != "orders-read") continue;
    const std::string detail = p.value("detail", "");
    const bool damaged = detail.find("invalid page in block") != std::string::npos;
    if (!p.value("ok", true)) {
      EXPECT_EQ(detail.find("expected '"), std::string::npos) << "a wrong answer: " << detail;
    }
    if (damaged) {
      EXPECT_NE(detail.find("SQLSTATE XX001"), std::string::npos) << detail;
      if (detection.empty()) detection = detail;
    }
    reads.push_back({p.value("elapsed_ms", 0.0), p.value("ok", false), damaged});
  }
  const auto first_damaged = std::find_if(reads.begin(), reads.end(), [](const Read& r) { return r.damaged; });
  ASSERT_NE(first_damaged, reads.end()) << "no read saw the damage\n" << output;
  const auto last_damaged =
      std::find_if(reads.rbegin(), reads.rend(), [](const Read& r) { return r.damaged; }).base() - 1;
  EXPECT_TRUE(std::none_of(first_damaged, last_damaged, [](const Read& r) { return r.ok; }))
      << "a read passed while the damaged primary served";
  const auto recovered = std::find_if(last_damaged, reads.end(), [](const Read& r) { return r.ok; });
  ASSERT_NE(recovered, reads.end()) << "no correct read after the switchover\n" << output;
  const double kill_ms = kill->value("elapsed_ms", 0.0);
  EXPECT_GT(first_damaged->at, kill_ms);
  EXPECT_LT(last_damaged->at, switchover->value("elapsed_ms", 0.0)) << "refused after the new leader ran";
  EXPECT_FALSE(amcheck_detail.empty()) << "pg_amcheck never reported the damage\n" << output;
  const auto refused = std::count_if(reads.begin(), reads.end(), [](const Read& r) { return r.damaged; });
  std::cout << "[ figures ] first refused read " << (first_damaged->at - kill_ms) / 1000.0
            << " s after the shutdown: " << detection << "\n[ figures ] " << refused << " reads refused over "
            << (last_damaged->at - first_damaged->at) / 1000.0 << " s; first correct read "
            << (recovered->at - last_damaged->at) / 1000.0 << " s after the last refused one (switchover; new leader "
            << "running " << (switchover->value("elapsed_ms", 0.0) - last_damaged->at) / 1000.0
            << " s after it)\n[ figures ] pg_amcheck: " << amcheck_detail.substr(0, 240) << "\n";

  // The revert: every run of flipped bytes written back, the whole file checked against the copy.
  const auto reverted = journal_events(journal, "fault.reverted");
  std::optional<nlohmann::json> corrupt_reverted;
  for (const auto& e : reverted) {
    EXPECT_TRUE(e.value("ok", false)) << e.dump();
    if (e.value("fault", "") == "corrupt") corrupt_reverted = e;
  }
  ASSERT_TRUE(corrupt_reverted.has_value()) << output;
  EXPECT_EQ(corrupt_reverted->value("reach.sha256_verified", 0), 1) << corrupt_reverted->dump();
  EXPECT_EQ(corrupt_reverted->value("reach.runs_restored", 0), 2) << corrupt_reverted->dump();
  EXPECT_EQ(corrupt_reverted->value("reach.runs_rewritten", -1), 0) << corrupt_reverted->dump();
  // Computed here again, after the run: the old primary's file is the one of before the flips.
  const auto sha_now = faults::file_sha256(file);
  ASSERT_TRUE(sha_now.ok()) << sha_now.error();
  EXPECT_EQ(*sha_now, c.value("sha256_before", "")) << "every byte back";
  EXPECT_NE(c.value("sha256_before", ""), c.value("sha256_after", ""));
  std::cout << "[ figures ] " << file << ": SHA-256 " << *sha_now << " after the revert, "
            << c.value("sha256_after", "") << " while damaged\n";

  const auto verdict = journal_events(journal, "run.verdict");
  ASSERT_EQ(verdict.size(), 1u) << output;
  EXPECT_EQ(verdict[0].value("verdict", ""), "deviated") << verdict[0].dump();
  EXPECT_NE(verdict[0].dump().find("orders-read"), std::string::npos) << verdict[0].dump();
  const auto steady = journal_events(journal, "steady_state.result");
  ASSERT_EQ(steady.size(), 2u) << output;
  EXPECT_TRUE(steady[1].value("held", false)) << steady[1].dump();

  // Afterwards: another member leads, the cluster is whole, the old primary counted the failed
  // checksums and, now a replica, reads every row right and passes pg_amcheck.
  ASSERT_TRUE(lab_->wait_healthy(60s)) << lab_->status();
  const auto leader_after = lab_->leader();
  ASSERT_TRUE(leader_after.has_value());
  EXPECT_NE(*leader_after, *leader_before);
  const auto failures = PgLab::run_sql(
      *leader_before, "SELECT checksum_failures FROM pg_stat_database WHERE datname = current_database()");
  ASSERT_EQ(failures.exit_code, 0) << failures.output;
  EXPECT_GE(std::stoi(trimmed(failures.output)), 1) << failures.output;
  std::cout << "[ figures ] checksum_failures on " << member << ": " << trimmed(failures.output) << "\n";
  const auto rows = PgLab::run_sql(*leader_before, kRowsQuery);
  EXPECT_EQ(rows.exit_code, 0) << rows.output;
  EXPECT_EQ(trimmed(rows.output), kRowsMd5);
  Child amcheck({"/usr/lib/postgresql/15/bin/pg_amcheck", "host=" + *leader_before + " user=postgres dbname=chaos",
                 "--table=public.corruption_orders"});
  EXPECT_EQ(amcheck.wait(60s), 0) << amcheck.output();

  // Nothing left: no open ledger entry, no copy, no nftables table.
  auto ledger = runner::Ledger::open(runner::ledger_path(state));
  ASSERT_TRUE(ledger.ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  EXPECT_TRUE(std::filesystem::is_empty(state + "/corrupt")) << "the copy is gone";
  Child nft({"nft", "list", "tables"});
  ASSERT_EQ(nft.wait(10s), 0);
  EXPECT_EQ(nft.output().find("chaosplus"), std::string::npos) << nft.output();
}

}  // namespace
}  // namespace chaosplus
