// Where `chaosplus run` writes: below the runs folder the user chose, in files new for each run and
// readable by their owner only; an experiment file cannot aim its journal anywhere else, and an
// existing file is never truncated.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::TempDir;

int mode_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

std::string experiment(const TempDir& dir, const std::string& outputs = "") {
  const std::string path = dir.file("twins.yaml");
  testing::write_file(path,
                      "name: twins\ntargets:\n  sleeper: { process: { command: [sleep, \"30\"] } }\n"
                      "phases:\n  - name: short\n    duration: 200ms\n" +
                          outputs);
  return path;
}

std::vector<nlohmann::json> events(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : testing::read_lines(path)) out.push_back(nlohmann::json::parse(line, nullptr, false));
  return out;
}

TEST(RunOutputs, TwoRunsStartedTogetherEachKeepTheirOwnOwnerOnlyJournalAndLogs) {
  TempDir dir;
  const std::string file = experiment(dir);
  // No --runs-dir: the default is runs/ in the working directory.
  std::vector<std::unique_ptr<Child>> runs;
  for (int i = 0; i < 2; ++i) {
    runs.push_back(std::make_unique<Child>(
        std::vector<std::string>{bin("chaosplus"), "run", file, "--plain", "--state-dir", dir.file("state")},
        std::map<std::string, std::string>{}, dir.path()));
  }
  for (auto& run : runs) ASSERT_TRUE(run->wait(60s).has_value()) << run->output();

  const std::string folder = dir.file("runs");
  std::set<std::string> run_ids;
  int journals = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".jsonl") continue;
    ++journals;
    EXPECT_EQ(mode_of(path), 0600) << path;
    auto lines = events(path);
    ASSERT_GE(lines.size(), 2u) << path;
    EXPECT_EQ(lines.front().value("type", ""), "run.started") << path;
    EXPECT_EQ(lines.back().value("type", ""), "run.verdict") << path << " was cut short or shared";
    const std::string run_id = lines.front().value("run_id", "");
    EXPECT_NE(path.find("twins-" + run_id + ".jsonl"), std::string::npos) << path;
    run_ids.insert(run_id);
    const std::string logs = (entry.path().parent_path() / (entry.path().stem().string() + ".logs")).string();
    EXPECT_EQ(mode_of(logs), 0700) << logs;
    EXPECT_TRUE(std::filesystem::exists(logs + "/sleeper.log")) << logs;
  }
  EXPECT_EQ(journals, 2);
  EXPECT_EQ(run_ids.size(), 2u);
  EXPECT_EQ(mode_of(folder), 0700);
  EXPECT_EQ(mode_of(dir.file("state")), 0700);
}

TEST(RunOutputs, AJournalOutsideTheRunsFolderIsRefusedByValidateAndRun) {
  TempDir dir;
  const std::string file = experiment(dir, "outputs:\n  journal: \"../escape.jsonl\"\n");
  Child validate({bin("chaosplus"), "validate", file});
  EXPECT_EQ(validate.wait(30s), 3);
  EXPECT_NE(validate.output().find(file + ":8:12: journal: found '..'"), std::string::npos) << validate.output();

  Child run({bin("chaosplus"), "run", file, "--plain", "--state-dir", dir.file("state"), "--runs-dir",
             dir.file("runs/inner")});
  EXPECT_EQ(run.wait(30s), 3) << run.output();
  EXPECT_FALSE(std::filesystem::exists(dir.file("runs/escape.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("runs/inner")));
}

TEST(RunOutputs, AnExistingJournalIsNeverTruncatedNorASymbolicLinkFollowed) {
  TempDir dir;
  const std::string file = experiment(dir);
  const std::string journal = dir.file("kept.jsonl");
  testing::write_file(journal, "an earlier run\n");
  Child run({bin("chaosplus"), "run", file, "--plain", "--state-dir", dir.file("state"), "--journal", journal});
  EXPECT_EQ(run.wait(30s), 3) << run.output();
  EXPECT_NE(run.output().find(journal + " already exists"), std::string::npos) << run.output();
  EXPECT_EQ(testing::read_file(journal), "an earlier run\n");

  ASSERT_EQ(::symlink(journal.c_str(), dir.file("link.jsonl").c_str()), 0);
  Child linked({bin("chaosplus"), "run", file, "--plain", "--state-dir", dir.file("state"), "--journal",
                dir.file("link.jsonl")});
  EXPECT_EQ(linked.wait(30s), 3) << linked.output();
  EXPECT_EQ(testing::read_file(journal), "an earlier run\n");
}

}  // namespace
}  // namespace chaosplus
