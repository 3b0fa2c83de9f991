// Every file in tests/data/experiments/invalid/ starts with the diagnostics it must produce:
//   # expect: <line>:<column> <part of the message>
// in position order; the loader must report exactly those, in that order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

struct Expected {
  int line = 0;
  int column = 0;
  std::string message_part;
};

std::vector<std::string> invalid_files() {
  std::vector<std::string> files;
  const auto folder = testing::source_path("tests/data/experiments/invalid");
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Expected> expectations(const std::string& path) {
  std::vector<Expected> out;
  std::ifstream in(path);
  const std::regex pattern(R"(^# expect: (\d+):(\d+) (.+)$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, pattern)) out.push_back({std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

class InvalidFile : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidFile, ReportsExactlyTheExpectedDiagnostics) {
  const std::string path = testing::source_path("tests/data/experiments/invalid/" + GetParam());
  const auto expected = expectations(path);
  ASSERT_FALSE(expected.empty()) << path << " has no '# expect:' lines";

  const LoadResult result = load_experiment_file(path);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.experiment) << "no partial results";
  std::string got;
  for (const auto& d : result.errors) got += "  " + d.to_string() + "\n";
  ASSERT_EQ(result.errors.size(), expected.size()) << "got:\n" << got;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& d = result.errors[i];
    EXPECT_EQ(d.file, path);
    EXPECT_EQ(d.line, expected[i].line) << "diagnostic " << i << ": " << d.to_string();
    EXPECT_EQ(d.column, expected[i].column) << "diagnostic " << i << ": " << d.to_string();
    EXPECT_NE(d.message.find(expected[i].message_part), std::string::npos)
        << "diagnostic " << i << "\n  expected part: " << expected[i].message_part << "\n  got: " << d.message;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param.substr(0, info.param.size() - 5))
    name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidFile, ::testing::ValuesIn(invalid_files()), test_name);

TEST(InvalidFiles, CoverTheKindsOfMistakeUsersMake) {
  // Guards against the folder silently emptying (the parameterized suite would then run nothing).
  EXPECT_GE(invalid_files().size(), 20u);
}

}  // namespace
}  // namespace chaosplus::spec
