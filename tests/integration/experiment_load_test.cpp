// A phase's load runs against the demo shop while faults are on: thresholds judge its final
// figures (a missed one makes the hypothesis deviate) and a guardrail on its error rate aborts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

struct Shop {
  testing::TempDir dir;
  int tokens = testing::free_port();
  int proxy = testing::free_port();
  int shop = testing::free_port();

  std::string write(const std::string& guardrails, const std::string& phase) {
    const std::string yaml =
        "name: shop-load\ntargets:\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" +
        std::to_string(tokens) + "\"]\n      ready: { http: \"http://127.0.0.1:" + std::to_string(tokens) +
        "/health\" }\n    proxy: { listen: \"127.0.0.1:" + std::to_string(proxy) +
        "\", upstream: \"127.0.0.1:" + std::to_string(tokens) +
        "\" }\n  shop:\n    process:\n      command: [demo-shop-api, --port, \"" + std::to_string(shop) +
        "\", --tokens, \"127.0.0.1:" + std::to_string(proxy) +
        "\", --tokens-timeout, 300ms]\n      ready: { http: \"http://127.0.0.1:" + std::to_string(shop) +
        "/health\" }\n" + guardrails + "phases:\n" + phase;
    const std::string path = dir.file("experiment.yaml");
    testing::write_file(path, yaml);
    return path;
  }

  std::string load_block(const std::string& name, const std::string& extra) const {
    return "    load:\n      name: " + name + "\n      url: http://127.0.0.1:" + std::to_string(shop) +
           "/checkout\n      method: POST\n      headers: { Authorization: \"Bearer demo-alice\" }\n      body: "
           "'{\"sku\":\"a1\"}'\n"
           "      connections: 4\n      rate: 100/s\n" +
           extra;
  }

  int run(const std::string& experiment, std::string* output = nullptr) {
    testing::Child c({testing::bin("chaosplus"), "run", experiment, "--plain", "--state-dir", dir.file("state"),
                      "--journal", dir.file("journal.jsonl")});
    auto code = c.wait(90s);
    if (output != nullptr) *output = c.output();
    return code.value_or(-1);
  }

  std::vector<nlohmann::json> events(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
    }
    return out;
  }
};

TEST(ExperimentLoad, AMissedThresholdMakesTheHypothesisDeviate) {
  Shop s;
  // Every checkout waits for the token service behind a 150ms latency: p99 cannot be under 100ms.
  std::string out;
  int code = s.run(
      s.write("",
              "  - name: slow\n    duration: 2s\n    faults:\n      - latency: { target: tokens, latency: 150ms }\n" +
                  s.load_block("shoppers", "      thresholds: [\"p99 < 100ms\", \"error_rate < 5%\"]\n")),
      &out);
  EXPECT_EQ(code, 1) << out;
  auto summary = s.events("load.summary");
  ASSERT_EQ(summary.size(), 1u) << out;
  EXPECT_GT(summary[0]["requests"].get<double>(), 20);  // 4 connections, each ~150ms a request
  EXPECT_GE(summary[0]["p99_ms"].get<double>(), 150);
  EXPECT_FALSE(summary[0]["thresholds_held"].get<bool>());
  EXPECT_NE(out.find("p99 = "), std::string::npos) << out;
  EXPECT_EQ(s.events("load.tick").size(), 2u);
  // 4 connections cannot carry 100 checkouts/s at 150 ms each: the reason is given beside the miss.
  EXPECT_NE(out.find("the load generator was the bottleneck"), std::string::npos) << out;
  EXPECT_GT(summary[0].value("queued", 0.0), 0) << summary[0].dump();
  // Each threshold is judged on its own, as an event naming the stream metric; the verdict reads these.
  const auto judged = s.events("threshold.result");
  ASSERT_EQ(judged.size(), 2u) << out;
  EXPECT_EQ(judged[0]["activity"], "load");
  EXPECT_EQ(judged[0]["name"], "shoppers");
  EXPECT_EQ(judged[0]["metric"], "load.shoppers.latency_p99");
  EXPECT_EQ(judged[0]["threshold"], "p99 < 100ms");
  EXPECT_FALSE(judged[0]["held"].get<bool>());
  EXPECT_GE(judged[0]["measured"].get<double>(), 0.150);
  EXPECT_EQ(judged[1]["metric"], "load.shoppers.error_rate");
}

TEST(ExperimentLoad, ThresholdsThatHoldLetTheHypothesisHold) {
  Shop s;
  std::string out;
  int code = s.run(s.write("", "  - name: calm\n    duration: 2s\n" +
                                   s.load_block("shoppers", "      thresholds: [\"error_rate < 5%\", \"rps > 10\"]\n")),
                   &out);
  EXPECT_EQ(code, 0) << out;
  ASSERT_EQ(s.events("load.summary").size(), 1u);
  EXPECT_TRUE(s.events("load.summary")[0]["thresholds_held"].get<bool>());
  const auto judged = s.events("threshold.result");
  ASSERT_EQ(judged.size(), 2u) << out;
  EXPECT_TRUE(judged[0]["held"].get<bool>());
  EXPECT_TRUE(judged[1]["held"].get<bool>());
  EXPECT_EQ(judged[1]["metric"], "load.shoppers.rps");
}

TEST(ExperimentLoad, AGuardrailOnTheLoadErrorRateAbortsAndReverts) {
  Shop s;
  std::string out;
  int code = s.run(
      s.write("guardrails:\n  - when: { load: shoppers, error_rate: \"> 50%\", over: 2s, min_samples: 1 }\n",
              "  - name: cut\n    duration: 30s\n    faults:\n      - blackhole: { target: tokens, at: 500ms }\n" +
                  s.load_block("shoppers", "")),
      &out);
  EXPECT_EQ(code, 2) << out;
  ASSERT_EQ(s.events("guardrail.tripped").size(), 1u) << out;
  EXPECT_EQ(s.events("fault.reverted").size(), 1u);
  EXPECT_EQ(s.events("load.summary").size(), 1u);
}

// "Which errors appeared while which fault was on": 503s that the proxy answers 2.5 s late for
// requests sent during a 2 s fault are counted in the ticks of that window (±1 tick), not in the
// seconds after it when they came back; the ticks add up to the summary.
TEST(ExperimentLoad, ErrorsAFaultCausesAppearOnlyInItsWindow) {
  Shop s;
  std::string out;
  const std::string load = "    load:\n      name: health\n      url: http://127.0.0.1:" + std::to_string(s.proxy) +
                           "/health\n      connections: 100\n      rate: 20/s\n      timeout: 5s\n";
  int code = s.run(s.write("",
                           "  - name: slow-errors\n    duration: 7s\n    faults:\n"
                           "      - http_error: { target: tokens, at: 2s, for: 2s, status: 503 }\n"
                           "      - http_delay: { target: tokens, at: 2s, for: 2s, delay: 2500ms }\n" +
                               load),
                   &out);
  ASSERT_NE(code, 3) << out;
  const auto injected = s.events("fault.injected");
  const auto reverted = s.events("fault.reverted");
  ASSERT_EQ(injected.size(), 2u) << out;
  ASSERT_EQ(reverted.size(), 2u) << out;
  const double on = injected[0]["elapsed_ms"].get<double>();
  const double off = std::max(reverted[0]["elapsed_ms"].get<double>(), reverted[1]["elapsed_ms"].get<double>());
  const auto ticks = s.events("load.tick");
  ASSERT_EQ(ticks.size(), 7u) << out;
  double errors = 0, requests = 0;
  for (const auto& t : ticks) {
    const double n503 = t.value("status.503", 0.0);
    requests += t["requests"].get<double>();
    errors += n503;
    if (n503 == 0) continue;
    EXPECT_GT(t["to_ms"].get<double>(), on - 1000) << "503s before the fault: " << t.dump();
    EXPECT_LT(t["from_ms"].get<double>(), off + 1000) << "503s after the fault: " << t.dump();
  }
  EXPECT_GT(errors, 10) << out;
  const auto summary = s.events("load.summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(requests, summary[0]["requests"].get<double>());
}

// A weighted mix against the demo shop: browsers read /health, buyers check out and read their
// order back (its id extracted from the Location header); the summary counts each scenario.
TEST(ExperimentLoad, AScenarioMixSendsEveryScenarioAndCountsEach) {
  Shop s;
  testing::write_file(s.dir.file("mix.yaml"),
                      "seed: 7\nscenarios:\n"
                      "  - name: browse\n    weight: 3\n    steps: [{path: /health}]\n"
                      "  - name: buy\n    weight: 1\n    steps:\n"
                      "      - method: POST\n        path: /checkout\n"
                      "        headers: {Authorization: \"Bearer demo-alice\", Content-Type: application/json}\n"
                      "        body: '{\"sku\":\"a1\"}'\n"
                      "        extract: {order: {regex: '/orders/([0-9]+)'}}\n"
                      "      - path: /orders/${order}\n");
  std::string out;
  const std::string load = "    load:\n      name: shoppers\n      url: http://127.0.0.1:" + std::to_string(s.shop) +
                           "/\n      scenario: " + s.dir.file("mix.yaml") +
                           "\n      vus: 4\n      connections: 4\n      thresholds: [\"error_rate < 1%\"]\n";
  int code = s.run(s.write("", "  - name: mixed\n    duration: 2s\n" + load), &out);
  EXPECT_EQ(code, 0) << out;
  auto summary = s.events("load.summary");
  ASSERT_EQ(summary.size(), 1u) << out;
  const auto browse = summary[0].value("scenario.browse.requests", 0.0);
  const auto buy = summary[0].value("scenario.buy.requests", 0.0);
  EXPECT_GT(browse, 10) << summary[0].dump();
  EXPECT_GT(buy, 10) << summary[0].dump();
  EXPECT_EQ(browse + buy, summary[0]["requests"].get<double>()) << summary[0].dump();
  EXPECT_NE(summary[0].value("scenarios", "").find("buy"), std::string::npos) << summary[0].dump();
  EXPECT_TRUE(summary[0]["thresholds_held"].get<bool>()) << summary[0].dump();
}

}  // namespace
}  // namespace chaosplus
