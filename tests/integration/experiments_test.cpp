// The ready-to-run experiments in experiments/ load, and the one that can move its ports runs as
// written: load, faults and the hypothesis in one run, everything put back.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::source_path;

std::vector<nlohmann::json> journal_events(const std::string& path, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& line : testing::read_lines(path)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

TEST(ReadyToRunExperiments, EveryOneValidates) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("experiments"))) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    Child validate({bin("chaosplus"), "validate", entry.path().string()});
    EXPECT_EQ(validate.wait(30s), 0) << validate.output();
  }
  EXPECT_GE(files, 2);
}

TEST(ReadyToRunExperiments, ShopUnderLoadSendsLoadThroughTheFaultsAndPutsEverythingBack) {
  testing::TempDir dir;
  const int shop = testing::free_port(), tokens = testing::free_port(), proxy = testing::free_port();
  const std::string journal = dir.file("journal.jsonl");
  Child run({bin("chaosplus"), "run", source_path("experiments/shop-under-load.yaml"), "--plain", "--state-dir",
             dir.file("state"), "--journal", journal},
            {{"SHOP_PORT", std::to_string(shop)},
             {"TOKENS_PORT", std::to_string(tokens)},
             {"TOKENS_PROXY_PORT", std::to_string(proxy)}});
  const auto code = run.wait(90s);
  ASSERT_TRUE(code.has_value()) << run.output();
  // Held (0) as written; a machine too busy to keep p99 under its thresholds deviates (1). Never
  // aborted or an error.
  EXPECT_TRUE(*code == 0 || *code == 1) << run.output();

  auto summaries = journal_events(journal, "load.summary");
  ASSERT_EQ(summaries.size(), 2u) << run.output();
  EXPECT_EQ(summaries[0]["load"], "baseline");
  EXPECT_EQ(summaries[1]["load"], "shoppers");
  EXPECT_GT(summaries[1]["requests"].get<int>(), 300);
  // Only the degraded phase's load met the token service's 503s, as the shop's own 503s.
  int baseline_503 = 0, degraded_503 = 0;
  for (const auto& tick : journal_events(journal, "load.tick")) {
    (tick["load"] == "baseline" ? baseline_503 : degraded_503) += tick.value("status.503", 0);
  }
  EXPECT_EQ(baseline_503, 0);
  EXPECT_GT(degraded_503, 10);

  auto reverted = journal_events(journal, "fault.reverted");
  ASSERT_EQ(reverted.size(), 2u);
  for (const auto& r : reverted) EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  auto verdict = journal_events(journal, "run.verdict");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_EQ(verdict[0]["faults_injected"], 2);
  EXPECT_EQ(verdict[0]["faults_reverted"], 2);
  // The targets and the proxy the run started are gone: nothing listens on their ports.
  for (int port : {shop, tokens, proxy}) {
    EXPECT_EQ(testing::http_request("GET", "127.0.0.1", port, "/health", {}, 1s).status, 0) << port;
  }
}

}  // namespace
}  // namespace chaosplus
