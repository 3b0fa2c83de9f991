// experiments/sqlite-corruption.yaml through `chaosplus run`, as written: SQLite's integrity check
// sees the damaged pages during the phase (the run deviates, honestly), passes after the revert, and
// the file is byte for byte what it was (SHA-256 of the ledger's record). Killed with kill -9 while
// the pages are flipped, `chaosplus recover` puts the bytes back from the ledger alone.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "faults/file_pages.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/journal.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::source_path;

std::string integrity(const std::string& db) {
  Child check({"sqlite3", db, "PRAGMA integrity_check"});
  check.wait(30s);
  return check.output();
}

// The corruption the run recorded in its ledger (the one data.corrupt entry).
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

struct SqliteRun {
  testing::TempDir dir;
  std::string db = dir.file("shop.db");
  std::string state = dir.file("state");
  std::string journal = dir.file("journal.jsonl");

  std::unique_ptr<Child> start(const std::string& phase) {
    return std::make_unique<Child>(
        std::vector<std::string>{bin("chaosplus"), "run", source_path("experiments/sqlite-corruption.yaml"), "--plain",
                                 "--state-dir", state, "--journal", journal},
        std::map<std::string, std::string>{{"SQLITE_DB", db}, {"PHASE", phase}});
  }
};

TEST(SqliteCorruptionExperiment, TheIntegrityCheckSeesTheDamageAndEveryByteComesBack) {
  SqliteRun r;
  auto run = r.start("3s");
  const auto code = run->wait(120s);
  ASSERT_TRUE(code.has_value()) << run->output();
  EXPECT_EQ(*code, 1) << "deviated: the damage was seen while it was there\n" << run->output();

  const auto during = journal_events(r.journal, "probe.result");
  int failed = 0;
  std::string detail;
  for (const auto& p : during) {
    if (p.value("stage", "") == "during" && !p.value("ok", true)) {
      ++failed;
      detail = p.value("detail", "");
    }
  }
  EXPECT_GT(failed, 0) << run->output();
  EXPECT_NE(detail.find("btreeInitPage"), std::string::npos) << detail;
  std::cout << "[ figures ] integrity_check during the phase: " << detail.substr(0, 200) << "\n";

  const auto reverted = journal_events(r.journal, "fault.reverted");
  ASSERT_EQ(reverted.size(), 1u);
  EXPECT_TRUE(reverted[0].value("ok", false)) << reverted[0].dump();
  EXPECT_EQ(reverted[0].value("reach.sha256_verified", 0), 1) << reverted[0].dump();
  EXPECT_EQ(reverted[0].value("reach.runs_restored", 0), 2) << reverted[0].dump();
  EXPECT_NE(run->output().find("2 run(s) of bytes flipped, 2 written back; SHA-256 equal to the copy"),
            std::string::npos)
      << run->output();
  const auto after = journal_events(r.journal, "steady_state.result");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(after[1].value("held", false)) << after[1].dump();

  const auto c = recorded_corruption(r.state);
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(*faults::file_sha256(r.db), c.value("sha256_before", "")) << "every byte back";
  EXPECT_EQ(integrity(r.db), "ok\n");
  EXPECT_TRUE(std::filesystem::is_empty(r.state + "/corrupt")) << "the copy is gone";
}

TEST(SqliteCorruptionExperiment, AfterKillNineWhileCorruptedRecoverPutsTheBytesBack) {
  SqliteRun r;
  auto run = r.start("60s");
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.injected").empty(); }, 60s))
      << run->output();
  const auto c = recorded_corruption(r.state);
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(*faults::file_sha256(r.db), c.value("sha256_after", "")) << "the pages are flipped";
  EXPECT_NE(integrity(r.db), "ok\n");
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);

  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("reverted data.corrupt"), std::string::npos) << recover.output();
  EXPECT_EQ(*faults::file_sha256(r.db), c.value("sha256_before", "")) << "every byte back, from the ledger alone";
  EXPECT_EQ(integrity(r.db), "ok\n");
  EXPECT_TRUE(std::filesystem::is_empty(r.state + "/corrupt")) << "the copy is gone";
  auto ledger = runner::Ledger::open(runner::ledger_path(r.state));
  ASSERT_TRUE(ledger.ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "nothing left open (the target's sleep was stopped too)";
}

}  // namespace
}  // namespace chaosplus
