#include "runner/journal.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace chaosplus::runner
