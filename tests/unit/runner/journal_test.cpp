#include "runner/journal.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <set>

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

TEST(ExpandOutputPath, ReplacesNameAndTime) {
  auto t = std::chrono::system_clock::from_time_t(0);
  EXPECT_EQ(expand_output_path("runs/{name}-{time}.jsonl", "quick", t), "runs/quick-19700101T000000Z.jsonl");
}

// docs/journal.md describes every event type the code publishes.
TEST(JournalDocs, DescribeEveryEventType) {
  const std::string docs = testing::read_file(testing::source_path("docs/journal.md"));
  const std::regex published(R"re(Event(?:\s+\w+)?\("([a-z_]+\.[a-z_]+)"\))re");
  std::set<std::string> types;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(testing::source_path("src"))) {
    if (entry.path().extension() != ".cpp") continue;
    const std::string code = testing::read_file(entry.path().string());
    for (std::sregex_iterator it(code.begin(), code.end(), published), end; it != end; ++it) types.insert((*it)[1]);
  }
  EXPECT_GE(types.size(), 20u) << "the scan finds the events";
  for (const auto& type : types) EXPECT_NE(docs.find("`" + type + "`"), std::string::npos) << type;
}

}  // namespace
}  // namespace chaosplus::runner
