// compare against the real demo: the same short experiment (the shop checking every order's token
// with the token service through a fault proxy, a checkout probe and a steady load) run three
// times. Twice unchanged: compare finds no regression. Once with a slower dependency (the token
// service behind 100 ms more latency): compare exits 1 and names the latency rows.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/run_data.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

// The dependency's delay is the run's only difference: `--var TOKENS_DELAY=0ms` (unchanged) or 100ms.
constexpr const char* kExperiment = R"(name: slow-dependency
targets:
  tokens:
    process:
      command: [demo-token-service, --port, "${TOKENS_PORT}"]
      ready: { http: "http://127.0.0.1:${TOKENS_PORT}/health" }
    proxy: { listen: "127.0.0.1:${PROXY_PORT}", upstream: "127.0.0.1:${TOKENS_PORT}" }
  shop:
    process:
      command: [demo-shop-api, --port, "${SHOP_PORT}", --tokens, "127.0.0.1:${PROXY_PORT}", --tokens-timeout, 2s]
      ready: { http: "http://127.0.0.1:${SHOP_PORT}/health" }
steady_state:
  probes:
    - name: checkout
      http:
        method: POST
        url: http://127.0.0.1:${SHOP_PORT}/checkout
        headers: { Authorization: "Bearer demo-alice", Content-Type: application/json }
        body: '{"sku":"a1"}'
        timeout: 2s
      expect: { status: [201] }
      every: 100ms
phases:
  - name: steady
    duration: 5s
    faults:
      - latency: { target: tokens, latency: "${TOKENS_DELAY}" }
    load:
      name: shoppers
      url: http://127.0.0.1:${SHOP_PORT}/checkout
      method: POST
      headers: { Authorization: "Bearer demo-alice", Content-Type: application/json }
      body: '{"sku":"a1"}'
      rate: 50/s
      connections: 16
)";

class CompareRegression : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    testing::write_file(dir_->file("e.yaml"), kExperiment);
    for (const auto& [journal, delay] :
         std::vector<std::pair<std::string, std::string>>{{"run1", "0ms"}, {"run2", "0ms"}, {"slow", "100ms"}}) {
      testing::Child run({testing::bin("chaosplus"), "run", dir_->file("e.yaml"), "--plain", "--state-dir",
                          dir_->file("state"), "--journal", dir_->file(journal + ".jsonl"), "--var",
                          "TOKENS_PORT=" + std::to_string(testing::free_port()), "--var",
                          "PROXY_PORT=" + std::to_string(testing::free_port()), "--var",
                          "SHOP_PORT=" + std::to_string(testing::free_port()), "--var", "TOKENS_DELAY=" + delay});
      const auto code = run.wait(90s);
      codes_.push_back(code.value_or(-1));
      outputs_.push_back(run.output());
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    for (std::size_t i = 0; i < codes_.size(); ++i) ASSERT_EQ(codes_[i], 0) << outputs_[i];
  }

  static int compare(const std::vector<std::string>& args, std::string* output) {
    std::vector<std::string> argv{testing::bin("chaosplus"), "compare"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Child c(argv);
    const auto code = c.wait(30s);
    *output = c.output();
    return code.value_or(-1);
  }

  static std::string journal(const std::string& name) { return dir_->file(name + ".jsonl"); }

  static testing::TempDir* dir_;
  static std::vector<int> codes_;
  static std::vector<std::string> outputs_;
};

testing::TempDir* CompareRegression::dir_ = nullptr;
std::vector<int> CompareRegression::codes_;
std::vector<std::string> CompareRegression::outputs_;

// One test: the three runs take ~15 s, and each test of a suite runs in a process of its own.
TEST_F(CompareRegression, FlagsASlowerDependencyAndNotAnUnchangedSystem) {
  std::string out;
  // Unchanged: no regression.
  EXPECT_EQ(compare({journal("run1"), journal("run2")}, &out), 0) << out;
  EXPECT_NE(out.find("no regression"), std::string::npos) << out;
  EXPECT_EQ(out.find("REGRESSION"), std::string::npos) << out;

  // A slower dependency: a regression, on the latency rows.
  EXPECT_EQ(compare({journal("run1"), journal("slow")}, &out), 1) << out;
  const std::size_t listed = out.find("REGRESSION (");
  ASSERT_NE(listed, std::string::npos) << out;
  const std::string regressions = out.substr(listed);
  EXPECT_NE(regressions.find("probe checkout p50 latency (during the phases)"), std::string::npos) << out;
  EXPECT_NE(regressions.find("load shoppers (phase steady) p50 latency"), std::string::npos) << out;
  EXPECT_EQ(regressions.find("success rate"), std::string::npos) << out;  // only latency got worse
  EXPECT_EQ(regressions.find("error rate"), std::string::npos) << out;

  // The JSON says the same.
  ASSERT_EQ(compare({"--json", journal("run2"), journal("slow")}, &out), 1) << out;
  const auto json = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_TRUE(json["regression"].get<bool>());
  bool latency = false;
  for (const auto& row : json["rows"])
    if (row["regression"].get<bool>())
      latency = latency || row["what"].get<std::string>().find("latency") != std::string::npos;
  EXPECT_TRUE(latency) << out;

  // The rules decide: 100 ms more is within rules that allow 200 ms (and a tail of 250 ms).
  EXPECT_EQ(compare({"--latency-floor", "200ms", "--tail-floor", "250ms", journal("run1"), journal("slow")}, &out), 0)
      << out;

  // The same runs by their ids in the results store each run was recorded in (its state folder's).
  const std::string location = "sqlite:" + dir_->file("state/results.db");
  std::vector<std::string> ids;
  for (const char* name : {"run1", "run2", "slow"}) {
    auto run = report::load_run(journal(name), nullptr);
    ASSERT_TRUE(run) << run.error();
    ids.push_back(run->row.run_id);
  }
  EXPECT_EQ(compare({"--store", location, ids[0], ids[1]}, &out), 0) << out;
  // A unique prefix will do: the runs differ in their random suffix.
  EXPECT_EQ(compare({"--store", location, ids[1], ids[2].substr(0, ids[2].size() - 2)}, &out), 1) << out;
  EXPECT_NE(out.find("probe checkout p50 latency (during the phases)"), std::string::npos) << out;

  // The slow run's report compares it with the run before it in the store: run2.
  testing::Child report({testing::bin("chaosplus"), "report", ids[2], "--state-dir", dir_->file("state"), "--markdown",
                         dir_->file("slow.md")});
  ASSERT_EQ(report.wait(30s), 0) << report.output();
  const std::string md = testing::read_file(dir_->file("slow.md"));
  EXPECT_NE(md.find("A: `" + ids[1] + "` (previous)"), std::string::npos) << md;
  EXPECT_NE(md.find("**Regression** against"), std::string::npos) << md;
}

TEST(CompareErrors, AnUnreadableRunOrABadRuleExitsWith3) {
  testing::TempDir dir;
  testing::write_file(dir.file("empty.jsonl"), "");
  std::string out;
  {
    testing::Child c({testing::bin("chaosplus"), "compare", dir.file("empty.jsonl"), dir.file("missing.jsonl")});
    EXPECT_EQ(c.wait(30s), 3);
    out = c.output();
    EXPECT_NE(out.find("empty.jsonl: not a run's journal"), std::string::npos) << out;
  }
  {
    testing::Child c({testing::bin("chaosplus"), "compare", "--latency-floor", "soon", "a", "b"});
    EXPECT_EQ(c.wait(30s), 3);
    out = c.output();
    EXPECT_NE(out.find("--latency-floor soon"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace chaosplus
