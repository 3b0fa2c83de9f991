// The corrupt fault on plain files: where it flips (reproducible from its seed, inside the asked part
// of a page, never a zero byte), record first then act (the ledger holds the copy and every run
// before a byte is written), the exact restore checked by SHA-256 from the record alone, and what
// revert does when the file's owner wrote to it, or replaced it, since.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include <gtest/gtest.h>

#include "faults/fault.h"
#include "faults/file_corruption.h"
#include "faults/page_formats.h"
#include "faults/registry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/fault_catalog.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

using chaosplus::testing::TempDir;

std::string some_bytes(std::size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random() & 0xff);
  return out;
}

void write_binary(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string sha(const std::string& path) {
  auto s = file_sha256(path);
  EXPECT_TRUE(s.ok()) << s.error();
  return s.ok() ? *s : "";
}

TEST(PlanFlips, TheSameSeedDrawsTheSamePagesAndOffsetsInsideTheAskedPart) {
  PagePlan plan;
  plan.file_size = 64 * 8192;
  plan.page_size = 8192;
  plan.count = 5;
  plan.bytes = 16;
  plan.from = kPostgresPageHeader;
  plan.seed = 42;
  auto a = plan_flips(plan);
  auto b = plan_flips(plan);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_EQ(a->size(), 5u);
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].offset, (*b)[i].offset);
    const auto in_page = (*a)[i].offset - (*a)[i].page * 8192;
    EXPECT_GE(in_page, kPostgresPageHeader);
    EXPECT_LE(in_page + 16, 8192u);
    if (i > 0) {
      EXPECT_LT((*a)[i - 1].page, (*a)[i].page) << "in file order, no page twice";
    }
  }
  plan.seed = 43;
  auto c = plan_flips(plan);
  ASSERT_TRUE(c.ok());
  bool differs = false;
  for (std::size_t i = 0; i < c->size(); ++i) differs = differs || (*c)[i].offset != (*a)[i].offset;
  EXPECT_TRUE(differs);
}

TEST(PlanFlips, LeavesTheFirstSqlitePageAloneUnlessNamed) {
  PagePlan plan;
  plan.file_size = 3 * 4096;
  plan.page_size = 4096;
  plan.first_page = 1;
  plan.never = {1};
  plan.count = 2;
  plan.first_page_shift = kSqliteFileHeader;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    plan.seed = seed;
    auto flips = plan_flips(plan);
    ASSERT_TRUE(flips.ok()) << flips.error();
    for (const auto& f : *flips) EXPECT_NE(f.page, 1u);
  }
  plan.count = 3;
  auto too_many = plan_flips(plan);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().find("3 page(s) asked, 2 may be drawn"), std::string::npos) << too_many.error();
  plan.pages = {1};
  plan.to = kSqliteBtreeHeader;
  plan.bytes = 8;
  auto named = plan_flips(plan);
  ASSERT_TRUE(named.ok()) << named.error();
  EXPECT_EQ((*named)[0].offset, kSqliteFileHeader) << "page 1's b-tree header comes after the file header";
  plan.pages = {4};
  auto past = plan_flips(plan);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().find("page 4 is not in the file"), std::string::npos) << past.error();
}

TEST(FlipBytes, EveryByteChangesAndNoneBecomesZero) {
  std::vector<PageFlip> flips(1);
  for (int b = 0; b < 256; ++b) flips[0].original.push_back(static_cast<unsigned char>(b));
  flip_bytes(flips, 7);
  for (std::size_t i = 0; i < 256; ++i) {
    EXPECT_NE(flips[0].corrupted[i], flips[0].original[i]);
    EXPECT_NE(flips[0].corrupted[i], 0);
  }
}

class CorruptFile : public ::testing::Test {
 protected:
  TempDir dir;
  std::string file = dir.file("data.bin");
  std::string state = dir.file("state");
  std::string content = some_bytes(16 * 4096, 1);

  void SetUp() override { write_binary(file, content); }

  Corruption corrupt(std::uint64_t pages = 3) {
    PagePlan plan;
    plan.page_size = 4096;
    plan.count = pages;
    plan.bytes = 16;
    plan.seed = 99;
    auto c = prepare(file, PageFormat::raw, plan, copies_folder(state) + "/data.bin.copy");
    EXPECT_TRUE(c.ok()) << c.error();
    return c.ok() ? *c : Corruption{};
  }
};

TEST_F(CorruptFile, PrepareKeepsAnExactPrivateCopyAndTouchesNothing) {
  const std::string before = sha(file);
  Corruption c = corrupt();
  EXPECT_EQ(sha(file), before) << "prepare does not write the file";
  EXPECT_EQ(c.sha256_before, before);
  EXPECT_EQ(sha(c.copy), before);
  struct stat st {};
  ASSERT_EQ(::stat(c.copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(copies_folder(state).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(c.flips.size(), 3u);
  EXPECT_NE(c.sha256_after, c.sha256_before);
}

TEST_F(CorruptFile, ApplyFlipsExactlyTheRecordedRunsAndRestoreFromTheRecordAloneGivesEveryByteBack) {
  Corruption c = corrupt();
  ASSERT_TRUE(apply(c).ok());
  EXPECT_EQ(sha(file), c.sha256_after);
  const std::string now = chaosplus::testing::read_file(file);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < now.size(); ++i) differing += now[i] != content[i];
  EXPECT_EQ(differing, 3u * 16u) << "every flipped byte changed, nothing else";

  auto again = Corruption::from_json(c.to_json());  // what a new process reads from the ledger
  ASSERT_TRUE(again.ok()) << again.error();
  auto report = restore(*again);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->found, FileState::corrupted);
  EXPECT_EQ(report->runs_restored, 3);
  EXPECT_TRUE(report->verified);
  EXPECT_EQ(sha(file), c.sha256_before);
  EXPECT_EQ(chaosplus::testing::read_file(file), content);
  EXPECT_FALSE(std::filesystem::exists(c.copy)) << "the copy goes once the file is back";

  auto twice = restore(*again);  // idempotent
  ASSERT_TRUE(twice.ok()) << twice.error();
  EXPECT_EQ(twice->found, FileState::original);
}

TEST_F(CorruptFile, RestoreDoesNotOverwriteARunItsOwnerRewroteAndPutsTheOthersBack) {
  Corruption c = corrupt();
  ASSERT_TRUE(apply(c).ok());
  // The owner rewrites the first corrupted run's page (a database writing the page anew).
  const std::string fresh = some_bytes(4096, 2);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(c.flips[0].page * 4096));
    f << fresh;
  }
  auto report = restore(c);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->found, FileState::changed);
  EXPECT_EQ(report->runs_rewritten, 1);
  EXPECT_EQ(report->runs_restored, 2);
  EXPECT_FALSE(report->verified);
  EXPECT_NE(report->said.find("rewritten by the owner left as they are"), std::string::npos) << report->said;
  const std::string now = chaosplus::testing::read_file(file);
  EXPECT_EQ(now.substr(c.flips[0].page * 4096, 4096), fresh) << "the owner's newer page is kept";
  for (std::size_t i = 1; i < c.flips.size(); ++i) {
    EXPECT_EQ(now.substr(c.flips[i].offset, 16), content.substr(c.flips[i].offset, 16));
  }
}

TEST_F(CorruptFile, RestoreLeavesAReplacedFileAlone) {
  Corruption c = corrupt();
  ASSERT_TRUE(apply(c).ok());
  const std::string other = some_bytes(4096, 3);
  write_binary(dir.file("new.bin"), other);
  std::filesystem::rename(dir.file("new.bin"), file);  // a new inode at the path
  auto report = restore(c);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->found, FileState::replaced);
  EXPECT_EQ(chaosplus::testing::read_file(file), other);
  EXPECT_NE(report->said.find("another file now"), std::string::npos) << report->said;
  std::filesystem::remove(file);
  auto gone = restore(c);
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_NE(gone->said.find("no longer exists"), std::string::npos) << gone->said;
}

TEST_F(CorruptFile, ApplyRefusesAFileThatChangedAfterItsCopy) {
  Corruption c = corrupt(1);
  std::string changed = content;
  changed[c.flips[0].offset] = static_cast<char>(changed[c.flips[0].offset] ^ 1);
  write_binary(file, changed);
  auto s = apply(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("nothing written"), std::string::npos) << s.error();
  EXPECT_EQ(chaosplus::testing::read_file(file), changed);
}

TEST(SqliteLayout, ReadsThePageSizeFromTheHeader) {
  TempDir dir;
  std::string header = std::string("SQLite format 3") + '\0' + std::string("\x10\x00", 2) + std::string(82, '\1');
  write_binary(dir.file("a.db"), header + std::string(4096 * 3 - header.size(), 'x'));
  auto layout = page_layout(PageFormat::sqlite, dir.file("a.db"), 0);
  ASSERT_TRUE(layout.ok()) << layout.error();
  EXPECT_EQ(layout->page_size, 4096u);
  EXPECT_EQ(layout->first_page, 1u);
  EXPECT_EQ(layout->never, std::vector<std::uint64_t>{1});
  auto wrong = page_layout(PageFormat::sqlite, dir.file("a.db"), 8192);
  ASSERT_FALSE(wrong.ok());
  write_binary(dir.file("b.db"), std::string(8192, 'y'));
  auto not_sqlite = page_layout(PageFormat::sqlite, dir.file("b.db"), 0);
  ASSERT_FALSE(not_sqlite.ok());
  EXPECT_NE(not_sqlite.error().find("is not an SQLite database"), std::string::npos);
}

// The fault through the registry: the ledger entry (the record sink) holds the copy and every run
// before a byte is written; revert and undo from the last record give every byte back.
TEST(CorruptFault, RecordsEverythingBeforeItWritesAndUndoesFromTheRecord) {
  register_builtin_faults();
  TempDir dir;
  const std::string file = dir.file("store.bin");
  const std::string content = some_bytes(10 * 4096, 5);
  write_binary(file, content);
  spec::Target t;
  t.name = "store";
  TargetHandle target(t, "/dev/null");
  target.state_dir = dir.file("state");
  spec::Fault f;
  f.type = "corrupt";
  f.target = "store";
  f.params = {{"path", file}, {"pages", "2"}, {"bytes", "32"}, {"seed", "1234"}};
  auto fault = make_fault(f, target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  std::vector<std::string> records{(*fault)->record()};
  std::vector<std::string> file_when_recorded;
  (*fault)->set_record_sink([&](const std::string& r) {
    records.push_back(r);
    file_when_recorded.push_back(chaosplus::testing::read_file(file));
    return ok_status();
  });
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(file_when_recorded[0], content) << "recorded before the first byte was written";
  const auto r = nlohmann::json::parse(records.back());
  ASSERT_TRUE(r.contains("corruption")) << records.back();
  const auto& c = r["corruption"];
  EXPECT_EQ(c["seed"], 1234);
  EXPECT_EQ(c["flips"].size(), 2u);
  EXPECT_EQ(c["sha256_before"], sha(c["copy"].get<std::string>()));
  EXPECT_EQ(c["sha256_after"], sha(file));
  EXPECT_EQ(r["copy"], c["copy"]);

  // A crash here: a new process undoes the entry from its record alone.
  ASSERT_TRUE(undo("data.corrupt", records.back()).ok());
  EXPECT_EQ(chaosplus::testing::read_file(file), content);
  // The fault's own revert now finds the file as it was, and says so.
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ((*fault)->reach().at("runs_original"), 2);
}

TEST(CorruptFault, TheSameSeedCorruptsTheSameBytes) {
  register_builtin_faults();
  TempDir dir;
  const std::string content = some_bytes(10 * 4096, 6);
  std::vector<std::string> after;
  for (int i = 0; i < 2; ++i) {
    write_binary(dir.file("f.bin"), content);
    spec::Target t;
    t.name = "store";
    TargetHandle target(t, "/dev/null");
    target.state_dir = dir.file("state");
    spec::Fault f;
    f.type = "corrupt";
    f.target = "store";
    f.params = {{"path", dir.file("f.bin")}, {"pages", "3"}, {"seed", "77"}};
    auto fault = make_fault(f, target);
    ASSERT_TRUE(fault.ok()) << fault.error();
    HaltSwitch halt;
    ASSERT_TRUE((*fault)->inject(halt).ok());
    after.push_back(chaosplus::testing::read_file(dir.file("f.bin")));
    ASSERT_TRUE((*fault)->revert(halt).ok());
    EXPECT_EQ(chaosplus::testing::read_file(dir.file("f.bin")), content);
  }
  EXPECT_EQ(after[0], after[1]);
  EXPECT_NE(after[0], content);
}

}  // namespace
}  // namespace chaosplus::faults
