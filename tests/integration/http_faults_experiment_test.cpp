// HTTP faults written in an experiment act on the requests through the target's fault proxy and
// are gone after the run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

struct TokenService {
  testing::TempDir dir;
  int port = testing::free_port();
  int proxy = testing::free_port();

  int run(const std::string& fault, std::string* output) {
    const std::string yaml = "name: http-faults\ntargets:\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" +
                             std::to_string(port) + "\"]\n      ready: { http: \"http://127.0.0.1:" + std::to_string(port) +
                             "/health\" }\n    proxy: { listen: \"127.0.0.1:" + std::to_string(proxy) +
                             "\", upstream: \"127.0.0.1:" + std::to_string(port) +
                             "\" }\nsteady_state:\n  probes:\n    - name: health\n      http: { url: \"http://127.0.0.1:" +
                             std::to_string(proxy) + "/health\", timeout: 2s }\n      expect: { status: 200 }\n" +
                             "      every: 100ms\n      tolerance: { success_rate: \">= 90%\" }\nphases:\n  - name: broken\n" +
                             "    duration: 1500ms\n    faults:\n      - " + fault + "\n";
    testing::write_file(dir.file("e.yaml"), yaml);
    testing::Child c({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
                      "--journal", dir.file("journal.jsonl")});
    auto code = c.wait(60s);
    *output = c.output();
    return code.value_or(-1);
  }

  nlohmann::json event(const std::string& type) const {
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == type) return j;
    }
    return nlohmann::json::object();
  }

  // Results that started after the fault was on (a probe here takes well under 100ms plus the
  // fault's delay) and ended before its revert began (the event comes after the revert is done).
  std::vector<nlohmann::json> results_under_fault() const {
    const auto reverted = event("fault.reverted");
    const double on = event("fault.injected").value("elapsed_ms", 0.0) + 300;
    const double off = reverted.value("elapsed_ms", 0.0) - reverted.value("took_ms", 0.0);
    std::vector<nlohmann::json> out;
    for (const auto& r : probe_results("during")) {
      const double at = r["elapsed_ms"].get<double>();
      if (at > on && at < off) out.push_back(r);
    }
    return out;
  }

  std::vector<nlohmann::json> probe_results(const std::string& stage) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == "probe.result" && j.value("stage", "") == stage) out.push_back(j);
    }
    return out;
  }
};

TEST(HttpFaultsInExperiments, AnHttpErrorOnEveryMatchingRequestMakesTheProbeFailThenIsGone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_error: { target: tokens, status: 503, path: /health, body: injected }", &out), 1) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 5u);
  for (const auto& r : during) EXPECT_EQ(r["status"], 503) << r.dump();
  auto after = s.probe_results("after");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0]["ok"].get<bool>()) << after[0].dump();
}

TEST(HttpFaultsInExperiments, AnHttpErrorOnAnotherPathLeavesTheProbeAlone) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_error: { target: tokens, status: 500, method: POST, path: /orders/* }", &out), 0) << out;
}

TEST(HttpFaultsInExperiments, AnHttpDelayHoldsMatchingRequests) {
  TokenService s;
  std::string out;
  EXPECT_EQ(s.run("http_delay: { target: tokens, delay: 200ms, path: /health }", &out), 0) << out;
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 2u);
  for (const auto& r : during) EXPECT_GE(r["latency_ms"].get<double>(), 200) << r.dump();
}

}  // namespace
}  // namespace chaosplus
