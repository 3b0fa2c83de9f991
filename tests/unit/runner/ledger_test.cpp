#include "runner/ledger.h"

#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

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

// What kill -9 leaves behind: the ledger's files as they are on disk while it is open (every commit
// synced, the recent ones only in the write-ahead log), copied to `to` as they are.
void copy_as_left_by_a_crash(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(std::filesystem::path(to).parent_path());
  for (const std::string suffix : {"", "-wal", ".witness"}) {
    if (std::filesystem::exists(from + suffix)) std::filesystem::copy_file(from + suffix, to + suffix);
  }
}

// A ledger whose runner was killed while a process was paused and a proxy toxic was on.
struct CrashedLedger {
  testing::TempDir dir;
  std::string path = dir.file("crashed/ledger.db");
  std::string wal = path + "-wal";

  CrashedLedger() {
    const std::string live = dir.file("live/ledger.db");
    auto ledger = Ledger::open(live);
    EXPECT_TRUE(ledger.ok()) << ledger.error();
    EXPECT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
    auto paused = (*ledger)->record("run-1", "process.paused", R"({"pid":4242,"start_time":9})");
    EXPECT_TRUE(paused.ok());
    EXPECT_TRUE((*ledger)->set_state(*paused, EntryState::active).ok());
    auto toxic = (*ledger)->record("run-1", "proxy.toxic", R"({"api":"127.0.0.1:1","token":"s3cret-token"})");
    EXPECT_TRUE(toxic.ok());
    copy_as_left_by_a_crash(live, path);
  }
};

void overwrite(const std::string& path, std::uintmax_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string garbage(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + 17) % 251);
  return bytes;
}

// The refusal says what cannot be trusted and what to check by hand, and never shows a secret.
void expect_refused(const std::string& path, const std::string& what) {
  auto ledger = Ledger::open(path);
  ASSERT_FALSE(ledger.ok()) << "a damaged ledger was opened as if whole";
  EXPECT_NE(ledger.error().find("cannot be trusted"), std::string::npos) << ledger.error();
  EXPECT_NE(ledger.error().find(what), std::string::npos) << ledger.error();
  const std::string folder = std::filesystem::path(path).parent_path().string();
  EXPECT_NE(ledger.error().find("chaosplus leftovers --state-dir " + folder), std::string::npos) << ledger.error();
  EXPECT_EQ(ledger.error().find("s3cret-token"), std::string::npos) << ledger.error();
  // And again: refusing once does not make it look whole the next time.
  EXPECT_FALSE(Ledger::open(path).ok());
}

TEST(LedgerDamage, ALedgerLeftByACrashHoldsEveryRecord) {
  CrashedLedger crashed;
  ASSERT_TRUE(std::filesystem::exists(crashed.wal));
  auto ledger = Ledger::open(crashed.path);
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  auto open = (*ledger)->open_entries("run-1");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 2u);
}

TEST(LedgerDamage, ADeletedWriteAheadLogIsRefused) {
  CrashedLedger crashed;
  std::filesystem::remove(crashed.wal);
  expect_refused(crashed.path, "process.paused");
}

TEST(LedgerDamage, AWriteAheadLogCutInHalfIsRefused) {
  CrashedLedger crashed;
  std::filesystem::resize_file(crashed.wal, std::filesystem::file_size(crashed.wal) / 2);
  expect_refused(crashed.path, "proxy.toxic");
}

TEST(LedgerDamage, GarbageInTheWriteAheadLogIsRefused) {
  CrashedLedger crashed;
  overwrite(crashed.wal, std::filesystem::file_size(crashed.wal) / 2, garbage(4096));
  expect_refused(crashed.path, "proxy.toxic");
}

TEST(LedgerDamage, GarbageAfterTheWriteAheadLogLosesNothing) {
  CrashedLedger crashed;
  overwrite(crashed.wal, std::filesystem::file_size(crashed.wal), garbage(4096));
  auto ledger = Ledger::open(crashed.path);
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  EXPECT_EQ((*ledger)->open_entries("run-1")->size(), 2u);
}

TEST(LedgerDamage, ACheckpointedLedgerTruncatedToNothingIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
    ASSERT_TRUE((*ledger)->record("run-1", "kernel.nft_table", R"({"table":"chaosplus_1_1_00000000"})").ok());
  }
  ASSERT_FALSE(std::filesystem::exists(path + "-wal")) << "closing the ledger checkpoints it";
  std::filesystem::resize_file(path, 0);
  expect_refused(path, "chaosplus_1_1_00000000");
}

TEST(LedgerDamage, ALostUpdateOfARecordIsRefused) {
  testing::TempDir dir;
  const std::string live = dir.file("live/ledger.db");
  const std::string before = dir.file("before/ledger.db");
  auto ledger = Ledger::open(live);
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
  auto started = (*ledger)->record("run-1", "process.started", R"({"what":"target"})");
  ASSERT_TRUE(started.ok());
  copy_as_left_by_a_crash(live, before);
  // The pid is known only once the process runs; the ledger that lost this update would say "never started".
  ASSERT_TRUE((*ledger)->update_record(*started, R"({"what":"target","pid":4242,"start_time":9})").ok());
  std::filesystem::copy_file(Ledger::witness_path(live), Ledger::witness_path(before),
                             std::filesystem::copy_options::overwrite_existing);
  expect_refused(before, "the latest update of entry");
  // The ledger that kept it opens, of course.
  auto whole = Ledger::open(live);
  ASSERT_TRUE(whole.ok()) << whole.error();
}

TEST(LedgerDamage, ADeletedWitnessIsRefused) {
  CrashedLedger crashed;
  std::filesystem::remove(Ledger::witness_path(crashed.path));
  expect_refused(crashed.path, "is gone");
}

TEST(LedgerDamage, GarbageInTheWitnessIsRefused) {
  CrashedLedger crashed;
  const std::string witness = Ledger::witness_path(crashed.path);
  std::string lines = testing::read_file(witness);
  testing::write_file(witness, "not a witness line\n" + lines);
  expect_refused(crashed.path, "damaged");
}

TEST(LedgerDamage, AWitnessLineCutByAPowerLossIsDroppedAndWritingGoesOn) {
  CrashedLedger crashed;
  const std::string witness = Ledger::witness_path(crashed.path);
  testing::write_file(witness, testing::read_file(witness) + R"({"entry":99,"run":"ru)");
  {
    auto ledger = Ledger::open(crashed.path);
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    ASSERT_TRUE((*ledger)->record("run-1", "process.paused", R"({"pid":1})").ok());
  }
  auto reopened = Ledger::open(crashed.path);
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  EXPECT_EQ((*reopened)->open_entries("run-1")->size(), 3u);
}

TEST(LedgerDamage, TheWitnessHoldsNoSecrets) {
  CrashedLedger crashed;
  const std::string witness = testing::read_file(Ledger::witness_path(crashed.path));
  EXPECT_EQ(witness.find("s3cret-token"), std::string::npos) << witness;
  EXPECT_NE(witness.find("proxy.toxic"), std::string::npos) << witness;
  struct stat st {};
  ASSERT_EQ(::stat(Ledger::witness_path(crashed.path).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(LedgerDamage, AnotherLedgerWritingMeanwhileIsNoDamage) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  auto first = Ledger::open(path);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*first)->record("run-1", "process.paused", "{}").ok());
    auto second = Ledger::open(path);
    ASSERT_TRUE(second.ok()) << second.error();
    ASSERT_TRUE((*second)->record("run-2", "process.paused", "{}").ok());
  }
}

// Runs that start together on a fresh state folder: each checks the ledger while the others write
// to it and to its witness, and none mistakes their writes for damage.
TEST(LedgerDamage, LedgersOpenedAndWrittenAtTheSameTimeAreNoDamage) {
  testing::TempDir dir;
  const std::string path = dir.file("state/ledger.db");
  std::atomic<int> refused{0};
  std::string first_error;
  std::mutex error_mutex;
  std::vector<std::thread> runs;
  for (int t = 0; t < 6; ++t) {
    runs.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        auto ledger = Ledger::open(path);
        if (!ledger) {
          ++refused;
          std::lock_guard lock(error_mutex);
          if (first_error.empty()) first_error = ledger.error();
          continue;
        }
        const std::string run = "run-" + std::to_string(t) + "-" + std::to_string(i);
        (void)(*ledger)->begin_run(RunRecord{run, 0, 7, "exp", "j.jsonl", "running"});
        auto id = (*ledger)->record(run, "process.started", R"({"what":"x"})");
        if (id) (void)(*ledger)->update_record(*id, R"({"what":"x","pid":1})");
      }
    });
  }
  for (auto& r : runs) r.join();
  EXPECT_EQ(refused.load(), 0) << first_error;
  auto ledger = Ledger::open(path);
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  EXPECT_EQ((*ledger)->entries("")->size(), 48u);
}

// Two runs started together on a new state folder: one process finds the new ledger locked while
// the other switches it to WAL. That is no damage, and neither run may be refused.
TEST(LedgerDamage, ProcessesOpeningANewLedgerTogetherAreNoDamage) {
  int refused = 0;
  for (int round = 0; round < 20; ++round) {
    testing::TempDir dir;
    const std::string path = dir.file("state/ledger.db");
    std::vector<pid_t> children;
    for (int c = 0; c < 3; ++c) {
      const pid_t pid = ::fork();
      if (pid == 0) ::_exit(Ledger::open(path).ok() ? 0 : 1);
      children.push_back(pid);
    }
    for (pid_t pid : children) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++refused;
    }
  }
  EXPECT_EQ(refused, 0);
}

// A corrupt page: quick_check refuses it at open, and a read that meets it is an error, not the end.
TEST(LedgerDamage, ACorruptPageIsRefusedAndNeverReadAsTheEnd) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE((*ledger)
                      ->record("run-1", "process.paused",
                               R"({"pid":)" + std::to_string(i) + R"(,"pad":")" + std::string(200, 'x') + R"("})")
                      .ok());
    }
  }
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 16u * 4096u);
  overwrite(path, size - 4 * 4096, garbage(4096));  // a page of the entries table, near its end
  auto refused = Ledger::open(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("quick_check"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("chaosplus leftovers"), std::string::npos) << refused.error();
  auto inspected = Ledger::open_for_inspection(path);
  ASSERT_TRUE(inspected.ok()) << inspected.error();
  auto all = (*inspected)->entries("");
  EXPECT_FALSE(all.ok()) << "read " << all->size() << " entries of 300 and called it the end";
}

TEST(LedgerDamage, GarbageInTheHeaderIsRefusedWithWhatToCheck) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok());
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 7, "exp", "j.jsonl", "running"}).ok());
  }
  overwrite(path, 0, garbage(100));
  expect_refused(path, "SQLite cannot read it");
}

// A ledger written before the witness existed: its witness starts with what it holds, and from
// then on a loss is told.
TEST(LedgerDamage, ALedgerFromBeforeTheWitnessIsAdopted) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL;"
                         "CREATE TABLE runs (run_id TEXT PRIMARY KEY, pid INTEGER, pid_start_time INTEGER,"
                         " experiment TEXT, journal TEXT, status TEXT, started TEXT, ended TEXT);"
                         "CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, kind TEXT,"
                         " record TEXT, state TEXT, error TEXT, created TEXT, updated TEXT);"
                         "INSERT INTO runs VALUES ('old-run', 0, 7, 'exp', 'j', 'running', NULL, NULL);"
                         "INSERT INTO entries (run_id, kind, record, state) VALUES"
                         " ('old-run', 'process.paused', '{\"pid\":1}', 'active');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    auto open = (*ledger)->open_entries("old-run");
    ASSERT_TRUE(open.ok());
    ASSERT_EQ(open->size(), 1u);
    ASSERT_TRUE((*ledger)->update_record((*open)[0].id, R"({"pid":2})").ok());
  }
  const std::string witness = testing::read_file(Ledger::witness_path(path));
  EXPECT_NE(witness.find("old-run"), std::string::npos) << witness;
  EXPECT_NE(witness.find(R"("revision":1)"), std::string::npos) << witness;
  ASSERT_TRUE(Ledger::open(path).ok());
  std::filesystem::resize_file(path, 0);
  expect_refused(path, "old-run");
}

TEST(LedgerDamage, InspectionNeverCreatesALedger) {
  testing::TempDir dir;
  EXPECT_FALSE(Ledger::open_for_inspection(dir.file("ledger.db")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.file("ledger.db")));
}

}  // namespace
}  // namespace chaosplus::runner
