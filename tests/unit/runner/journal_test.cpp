#include "runner/journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/event_kinds.h"
#include "runner/output_paths.h"
#include "spec/experiment.h"
#include "support/support.h"

namespace chaosplus::runner {
namespace {

TEST(Journal, WritesOneParsableObjectPerLine) {
  testing::TempDir dir;
  const std::string path = dir.file("runs/a/journal.jsonl");
  {
    auto journal = Journal::create(path);
    ASSERT_TRUE(journal.ok()) << journal.error();
    journal->write(Event("phase.started").with("phase", "baseline"));
    journal->write(Event("fault.injected").with("summary", "pause \"x\"\n"));
  }
  auto lines = testing::read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["phase"], "baseline");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["summary"], "pause \"x\"\n");
}

std::string mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "missing";
  char text[8];
  std::snprintf(text, sizeof text, "%04o", st.st_mode & 07777);
  return text;
}

TEST(Journal, IsOwnerOnlyAndSoIsItsLogsFolderAndTheFoldersItCreates) {
  testing::TempDir dir;
  auto journal = Journal::create(dir.file("new/deeper/j.jsonl"));
  ASSERT_TRUE(journal.ok()) << journal.error();
  EXPECT_EQ(mode_of(dir.file("new/deeper/j.jsonl")), "0600");
  EXPECT_EQ(journal->logs_dir(), dir.file("new/deeper/j.logs"));
  EXPECT_EQ(mode_of(dir.file("new/deeper/j.logs")), "0700");
  EXPECT_EQ(mode_of(dir.file("new/deeper")), "0700");
  EXPECT_EQ(mode_of(dir.file("new")), "0700");
}

TEST(Journal, NeverTruncatesAnExistingFile) {
  testing::TempDir dir;
  const std::string path = dir.file("j.jsonl");
  testing::write_file(path, "an earlier run\n");
  auto journal = Journal::create(path);
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().find(path), std::string::npos) << journal.error();
  EXPECT_NE(journal.error().find("already exists"), std::string::npos) << journal.error();
  EXPECT_EQ(testing::read_file(path), "an earlier run\n");
}

TEST(Journal, NeverWritesThroughASymbolicLink) {
  testing::TempDir dir;
  const std::string victim = dir.file("victim");
  testing::write_file(victim, "precious\n");
  ASSERT_EQ(::symlink(victim.c_str(), dir.file("j.jsonl").c_str()), 0);
  ASSERT_EQ(::symlink(dir.file("nowhere").c_str(), dir.file("dangling.jsonl").c_str()), 0);
  EXPECT_FALSE(Journal::create(dir.file("j.jsonl")).ok());
  EXPECT_FALSE(Journal::create(dir.file("dangling.jsonl")).ok());
  EXPECT_EQ(testing::read_file(victim), "precious\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("nowhere")));
}

TEST(Journal, RefusesAnExistingLogsFolderAndLeavesNoJournalBehind) {
  testing::TempDir dir;
  std::filesystem::create_directory(dir.file("j.logs"));
  auto journal = Journal::create(dir.file("j.jsonl"));
  ASSERT_FALSE(journal.ok());
  EXPECT_NE(journal.error().find(dir.file("j.logs")), std::string::npos) << journal.error();
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.jsonl")));
}

TEST(JournalUnder, StaysBelowTheRunsFolder) {
  testing::TempDir dir;
  const std::string runs = dir.file("runs");
  auto journal = Journal::create_under(runs, "team/quick.jsonl");
  ASSERT_TRUE(journal.ok()) << journal.error();
  EXPECT_EQ(journal->path(), runs + "/team/quick.jsonl");
  EXPECT_EQ(journal->logs_dir(), runs + "/team/quick.logs");
  EXPECT_EQ(mode_of(runs), "0700");
  EXPECT_EQ(mode_of(runs + "/team"), "0700");

  for (const std::string bad : {"../escape.jsonl", "a/../../escape.jsonl", "/tmp/escape.jsonl", "", "a/", "a/.."}) {
    auto refused = Journal::create_under(runs, bad);
    EXPECT_FALSE(refused.ok()) << "'" << bad << "'";
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("escape.jsonl")));

  // A folder below the runs folder that is a symbolic link leads out of it: refused, nothing made.
  std::filesystem::create_directory(dir.file("elsewhere"));
  ASSERT_EQ(::symlink(dir.file("elsewhere").c_str(), (runs + "/link").c_str()), 0);
  auto through_link = Journal::create_under(runs, "link/quick.jsonl");
  ASSERT_FALSE(through_link.ok());
  EXPECT_NE(through_link.error().find(runs + "/link"), std::string::npos) << through_link.error();
  EXPECT_TRUE(std::filesystem::is_empty(dir.file("elsewhere")));
}

TEST(PrivateDirectories, CreatesMissingFoldersOwnerOnlyAndLeavesExistingOnesAlone) {
  testing::TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_TRUE(create_private_directories(dir.file("state/chaosplus")).ok());
  EXPECT_EQ(mode_of(dir.file("state")), "0700");
  EXPECT_EQ(mode_of(dir.file("state/chaosplus")), "0700");
  EXPECT_EQ(mode_of(dir.path()), "0755");
  EXPECT_TRUE(create_private_directories(dir.file("state/chaosplus")).ok()) << "already there is fine";
  testing::write_file(dir.file("file"), "");
  auto refused = create_private_directories(dir.file("file/sub"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find(dir.file("file")), std::string::npos) << refused.error();
}

TEST(ExpandOutputPath, ReplacesNameTimeToTheMillisecondAndRunId) {
  auto t = std::chrono::system_clock::from_time_t(0) + std::chrono::microseconds(123456);
  EXPECT_EQ(expand_output_path("runs/{name}-{time}.jsonl", "quick", t, "r1"), "runs/quick-19700101T000000.123Z.jsonl");
  EXPECT_EQ(expand_output_path("{name}/{run}.jsonl", "quick", t, "r1"), "quick/r1.jsonl");
}

TEST(RunId, StartsWithTheTimeAndDiffersForRunsStartedTogether) {
  const auto t = std::chrono::system_clock::from_time_t(0) + std::chrono::milliseconds(7);
  const std::string a = make_run_id(t);
  const std::string b = make_run_id(t);
  EXPECT_TRUE(a.starts_with("19700101T000000.007Z-")) << a;
  EXPECT_NE(a, b);
}

// Two runs of one experiment started in the same millisecond: each keeps its own journal and logs.
TEST(RunOutputPaths, TwoRunsStartedInTheSameMillisecondKeepBothJournals) {
  testing::TempDir dir;
  const auto now = std::chrono::system_clock::now();
  const std::string pattern = spec::Outputs{}.journal;
  std::vector<Journal> journals;
  for (int i = 0; i < 2; ++i) {
    auto journal = Journal::create_under(dir.file("runs"), expand_output_path(pattern, "quick", now, make_run_id(now)));
    ASSERT_TRUE(journal.ok()) << journal.error();
    journal->write(Event("run.started").with("n", std::int64_t{i}));
    journals.push_back(std::move(journal).value());
  }
  ASSERT_NE(journals[0].path(), journals[1].path());
  ASSERT_NE(journals[0].logs_dir(), journals[1].logs_dir());
  for (int i = 0; i < 2; ++i) {
    auto lines = testing::read_lines(journals[i].path());
    ASSERT_EQ(lines.size(), 1u) << journals[i].path();
    EXPECT_EQ(nlohmann::json::parse(lines[0])["n"], i);
  }
}

// Every event type the code publishes is declared once (core/event_kinds.h), and docs/journal.md
// describes every declared one.
TEST(JournalDocs, EveryPublishedEventIsDeclaredAndEveryDeclaredOneDocumented) {
  const std::regex published(R"re(Event(?:\s+\w+)?\("([a-z_]+\.[a-z_]+)"\))re");
  std::set<std::string> types;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(testing::source_path("src"))) {
    if (entry.path().extension() != ".cpp") continue;
    const std::string code = testing::read_file(entry.path().string());
    for (std::sregex_iterator it(code.begin(), code.end(), published), end; it != end; ++it) types.insert((*it)[1]);
  }
  EXPECT_GE(types.size(), 20u) << "the scan finds the events";
  for (const auto& type : types) EXPECT_TRUE(is_declared_event(type)) << type << " is published but not declared";

  const std::string docs = testing::read_file(testing::source_path("docs/journal.md"));
  EXPECT_GE(event_kinds().size(), types.size());
  for (const EventKind& kind : event_kinds()) {
    EXPECT_NE(docs.find("`" + std::string(kind.type) + "`"), std::string::npos) << kind.type;
    EXPECT_FALSE(kind.meaning.empty()) << kind.type;
  }
}

}  // namespace
}  // namespace chaosplus::runner
