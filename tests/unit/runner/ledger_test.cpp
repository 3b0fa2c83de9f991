#include "runner/ledger.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/support.h"

namespace chaosplus::runner {
namespace {

TEST(Ledger, OpenEntriesComeBackNewestFirstAfterReopening) {
  testing::TempDir dir;
  const std::string path = dir.file("state/ledger.db");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 42, 7, "exp", "j.jsonl", "running"}).ok());
    auto first = (*ledger)->record("run-1", "process.paused", R"({"pid":1})");
    auto second = (*ledger)->record("run-1", "proxy.toxic", R"({"toxic":"t"})");
    ASSERT_TRUE(first.ok() && second.ok());
    ASSERT_TRUE((*ledger)->set_state(*first, EntryState::active).ok());
  }
  auto reopened = Ledger::open(path);
  ASSERT_TRUE(reopened.ok());
  auto open = (*reopened)->open_entries("run-1");
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].kind, "proxy.toxic");
  EXPECT_EQ((*open)[0].state, EntryState::pending);
  EXPECT_EQ((*open)[1].kind, "process.paused");
  EXPECT_EQ((*open)[1].state, EntryState::active);
  auto runs = (*reopened)->runs_with_status("running");
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].pid, 42);
  EXPECT_EQ((*runs)[0].pid_start_time, 7u);
}

TEST(Ledger, OnlyItsOwnerCanReadIt) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  testing::write_file(path, "");  // even a file that was there before, readable by all
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto ledger = Ledger::open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 42, 7, "exp", "j.jsonl", "running"}).ok());
  ASSERT_TRUE((*ledger)->record("run-1", "proxy.toxic", R"({"token":"secret"})").ok());
  for (const std::string& file : {path, path + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST(Ledger, RevertedEntriesAreNoLongerOpenButFailedOnesAre) {
  testing::TempDir dir;
  auto ledger = Ledger::open(dir.file("ledger.db"));
  ASSERT_TRUE(ledger.ok());
  auto a = (*ledger)->record("r", "process.paused", "{}");
  auto b = (*ledger)->record("r", "proxy.toxic", "{}");
  ASSERT_TRUE((*ledger)->set_state(*a, EntryState::reverted).ok());
  ASSERT_TRUE((*ledger)->set_state(*b, EntryState::revert_failed, "proxy unreachable").ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].id, *b);
  EXPECT_EQ((*open)[0].error, "proxy unreachable");
  auto all = (*ledger)->entries("r");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST(Ledger, EndedRunsAreNotRunning) {
  testing::TempDir dir;
  auto ledger = Ledger::open(dir.file("ledger.db"));
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->begin_run(RunRecord{"r", 1, 1, "e", "j", "running"}).ok());
  ASSERT_TRUE((*ledger)->end_run("r", "held").ok());
  EXPECT_TRUE((*ledger)->runs_with_status("running")->empty());
  EXPECT_EQ((*ledger)->runs_with_status("held")->size(), 1u);
}

TEST(Ledger, AnUnwritableLocationIsAClearError) {
  auto ledger = Ledger::open("/proc/chaosplus/ledger.db");
  ASSERT_FALSE(ledger.ok());
  EXPECT_NE(ledger.error().find("/proc/chaosplus"), std::string::npos) << ledger.error();
}

}  // namespace
}  // namespace chaosplus::runner
