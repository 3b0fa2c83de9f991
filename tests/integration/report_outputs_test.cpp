// `chaosplus report RUN --html/--markdown/--junit/--sarif` on the journal of a real run against
// the demo token service; without a format option it keeps printing the recomputed summary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/support.h"
#include "support/token_experiment.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

class ReportOutputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    experiment_ = new testing::TokenServiceExperiment();
    code_ = experiment_->run("latency: { target: tokens, latency: 50ms }", &output_, "2s");
  }
  static void TearDownTestSuite() {
    delete experiment_;
    experiment_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(code_, 0) << output_; }

  static int report(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv{testing::bin("chaosplus"), "report"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Child c(argv);
    const auto code = c.wait(30s);
    *output = c.output();
    return code.value_or(-1);
  }
  static std::string journal() { return experiment_->dir.file("journal.jsonl"); }
  static std::string file(const std::string& name) { return experiment_->dir.file(name); }

  static testing::TokenServiceExperiment* experiment_;
  static int code_;
  static std::string output_;
};

testing::TokenServiceExperiment* ReportOutputs::experiment_ = nullptr;
int ReportOutputs::code_ = -1;
std::string ReportOutputs::output_;

TEST_F(ReportOutputs, WritesEveryFormatAndExitsWithTheVerdictsCode) {
  std::string out;
  ASSERT_EQ(report({journal(), "--state-dir", file("state"), "--html", file("r.html"), "--markdown", file("r.md"),
                    "--junit", file("r.xml"), "--sarif", file("r.sarif")},
                   &out),
            0)
      << out;
  const std::string html = testing::read_file(file("r.html"));
  EXPECT_NE(html.find("<canvas data-chart=\"probe-latency\""), std::string::npos);
  EXPECT_NE(html.find("latency tokens"), std::string::npos);  // the fault's band label
  EXPECT_NE(html.find("name: token-faults"), std::string::npos) << "the experiment file, unchanged since the run";
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  const std::string md = testing::read_file(file("r.md"));
  EXPECT_NE(md.find("### chaosplus: token-faults: **held** (exit code 0)"), std::string::npos) << md;
  // The run was recorded in its state folder's store, the first of its experiment there.
  EXPECT_NE(md.find("_no earlier run of token-faults in sqlite "), std::string::npos) << md;
  const std::string xml = testing::read_file(file("r.xml"));
  EXPECT_NE(xml.find("<testcase classname=\"token-faults.steady_state\" name=\"steady state before\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("failures=\"0\""), std::string::npos) << xml;
  const auto sarif = nlohmann::json::parse(testing::read_file(file("r.sarif")));
  EXPECT_EQ(sarif["version"], "2.1.0");
  EXPECT_TRUE(sarif["runs"][0]["results"].empty());
  EXPECT_NE(out.find("HTML report: " + file("r.html")), std::string::npos) << out;
}

TEST_F(ReportOutputs, WithoutAFormatItPrintsTheRunsSummary) {
  std::string out;
  EXPECT_EQ(report({journal()}, &out), 0) << out;
  EXPECT_EQ(testing::printed_summary(out), testing::printed_summary(output_)) << out;
}

TEST_F(ReportOutputs, ComparesWithAnEarlierRunWhenGivenOne) {
  std::string out;
  ASSERT_EQ(report({journal(), "--previous", journal(), "--markdown", file("self.md")}, &out), 0) << out;
  const std::string md = testing::read_file(file("self.md"));
  EXPECT_NE(md.find("No regression against"), std::string::npos) << md;
}

TEST_F(ReportOutputs, RefusesToWriteThroughASymbolicLink) {
  const std::string target = file("precious.txt");
  testing::write_file(target, "keep me");
  ASSERT_EQ(::symlink(target.c_str(), file("link.html").c_str()), 0);
  std::string out;
  EXPECT_EQ(report({journal(), "--html", file("link.html")}, &out), 3) << out;
  EXPECT_NE(out.find("symbolic link"), std::string::npos) << out;
  EXPECT_EQ(testing::read_file(target), "keep me");
}

TEST_F(ReportOutputs, AnUnknownRunIsAnError) {
  std::string out;
  EXPECT_EQ(report({file("nope.jsonl"), "--html", file("nope.html")}, &out), 3) << out;
  EXPECT_NE(out.find("nope.jsonl"), std::string::npos) << out;
  struct stat st {};
  EXPECT_NE(::stat(file("nope.html").c_str(), &st), 0);
}

}  // namespace
}  // namespace chaosplus
