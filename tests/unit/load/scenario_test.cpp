#include "load/scenario.h"

#include <gtest/gtest.h>

#include "load/response_parser.h"
#include "support/support.h"

namespace chaosplus::load {
namespace {

TEST(Scenario, BuildsTheRequestOfAStaticStep) {
  auto s = Scenario::single("POST", "/orders?x=1", {{"Content-Type", "application/json"}}, "{}", {});
  ASSERT_TRUE(s->step_is_static(0));
  std::string out;
  s->build_request(0, {}, "127.0.0.1:8080", out);
  EXPECT_EQ(out,
            "POST /orders?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}");
}

TEST(Scenario, ParsesStepsThinkTimesAndExtractions) {
  auto s = Scenario::parse(R"(
think: 2s
steps:
  - name: login
    method: POST
    path: /login
    body: '{"user": "u"}'
    extract:
      token: {json: /token}
      session: {header: Set-Cookie}
  - path: /orders?token=${token}
    headers: {Cookie: "${session}"}
    think: 500ms
)");
  ASSERT_TRUE(s.ok()) << s.error();
  const auto& steps = (*s)->steps();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].method, "POST");
  EXPECT_EQ(steps[0].think, std::chrono::seconds(2));
  EXPECT_EQ(steps[1].think, std::chrono::milliseconds(500));
  EXPECT_TRUE((*s)->step_is_static(0));
  EXPECT_FALSE((*s)->step_is_static(1));
  EXPECT_TRUE((*s)->step_extracts(0));
  EXPECT_EQ((*s)->variable_count(), 2u);
}

TEST(Scenario, SubstitutesVariablesIntoTheRequest) {
  auto s = Scenario::parse("steps:\n  - path: /a\n    extract: {id: {regex: 'id=(\\d+)'}}\n  - path: /item/${id}\n");
  ASSERT_TRUE(s.ok()) << s.error();
  std::vector<std::string> vars;
  (*s)->initial_variables(0, vars);
  ResponseCapture response;
  response.head = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n";
  response.body = "id=42;ok";
  EXPECT_EQ((*s)->extract(0, response, vars), 0);
  std::string out;
  (*s)->build_request(1, vars, "h:1", out);
  EXPECT_EQ(out, "GET /item/42 HTTP/1.1\r\nHost: h:1\r\n\r\n");
}

TEST(Scenario, ExtractsHeadersCaseInsensitivelyAndJsonPointers) {
  auto s = Scenario::parse(
      "steps:\n  - path: /\n    extract: {a: {header: x-token}, b: {json: /data/0/id}, c: {json: /missing}}\n");
  ASSERT_TRUE(s.ok()) << s.error();
  std::vector<std::string> vars;
  (*s)->initial_variables(0, vars);
  ResponseCapture response;
  response.head = "HTTP/1.1 200 OK\r\nX-Token:  t-1 \r\nContent-Length: 20\r\n\r\n";
  response.body = R"({"data":[{"id":7}]})";
  EXPECT_EQ((*s)->extract(0, response, vars), 1);  // c is missing
  EXPECT_EQ(vars[0], "t-1");
  EXPECT_EQ(vars[1], "7");
  EXPECT_EQ(vars[2], "");
}

TEST(Scenario, GivesEachUserACsvRowRoundRobin) {
  testing::TempDir dir;
  testing::write_file(dir.file("users.csv"), "user,password\nalice,a1\n\"bob, jr\",b2\n");
  testing::write_file(dir.file("s.yaml"), "data: users.csv\nsteps:\n  - path: /login?u=${user}&p=${password}\n");
  auto s = Scenario::load_file(dir.file("s.yaml"));
  ASSERT_TRUE(s.ok()) << s.error();
  std::vector<std::string> vars;
  (*s)->initial_variables(0, vars);
  EXPECT_EQ(vars[0], "alice");
  (*s)->initial_variables(1, vars);
  EXPECT_EQ(vars[0], "bob, jr");
  EXPECT_EQ(vars[1], "b2");
  (*s)->initial_variables(2, vars);
  EXPECT_EQ(vars[0], "alice");
}

struct BadScenario {
  const char* name;
  const char* yaml;
  const char* message;
};

class ScenarioRejects : public ::testing::TestWithParam<BadScenario> {};

TEST_P(ScenarioRejects, WithAReason) {
  auto s = Scenario::parse(GetParam().yaml);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find(GetParam().message), std::string::npos) << s.error();
}

INSTANTIATE_TEST_SUITE_P(
    BadFiles, ScenarioRejects,
    ::testing::Values(
        BadScenario{"NoSteps", "think: 1s\n", "steps"},
        BadScenario{"UnknownKey", "steps:\n  - path: /\n    pth: /x\n", "unknown key 'pth'"},
        BadScenario{"UndefinedVariable", "steps:\n  - path: /${nope}\n", "${nope}"},
        BadScenario{"BadThink", "steps:\n  - path: /\n    think: soon\n", "think"},
        BadScenario{"PathWithoutSlash", "steps:\n  - path: x\n", "path must start with /"},
        BadScenario{"RegexWithoutGroup", "steps:\n  - path: /\n    extract: {a: {regex: 'x'}}\n", "group"},
        BadScenario{"UnknownSource", "steps:\n  - path: /\n    extract: {a: {xpath: '/x'}}\n", "xpath"},
        BadScenario{"NotYaml", "steps: [\n", "invalid YAML"},
        BadScenario{"StepsAndAMix", "steps: [{path: /}]\nscenarios: [{name: a, steps: [{path: /}]}]\n",
                    "expected one of them"},
        BadScenario{"MixWithoutName", "scenarios: [{weight: 1, steps: [{path: /}]}]\n", "name is required"},
        BadScenario{"MixNameTwice", "scenarios: [{name: a, steps: [{path: /}]}, {name: a, steps: [{path: /b}]}]\n",
                    "used twice"},
        BadScenario{"MixZeroWeight", "scenarios: [{name: a, weight: 0, steps: [{path: /}]}]\n", "positive number"},
        BadScenario{"MixWithoutSteps", "scenarios: [{name: a, weight: 2}]\n", "non-empty list"},
        BadScenario{"MixUnknownKey", "scenarios: [{name: a, wieght: 2, steps: [{path: /}]}]\n",
                    "unknown key 'wieght'"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(ScenarioMix, ParsesScenariosWithWeightsThinkTimesAndSharedVariables) {
  auto s = Scenario::parse(R"(
seed: 42
think: 1s
scenarios:
  - name: browse
    weight: 3
    steps:
      - path: /
      - path: /items
  - name: buy
    weight: 1
    think: 2s
    steps:
      - method: POST
        path: /checkout
        extract: {order: {json: /order}}
      - path: /orders/${order}
)");
  ASSERT_TRUE(s.ok()) << s.error();
  const Scenario& m = **s;
  EXPECT_TRUE(m.is_mix());
  EXPECT_EQ(m.seed(), 42u);
  ASSERT_EQ(m.flows().size(), 2u);
  EXPECT_EQ(m.flows()[0].name, "browse");
  EXPECT_EQ(m.flows()[0].weight, 3);
  EXPECT_EQ(m.flows()[0].first, 0u);
  EXPECT_EQ(m.flows()[0].count, 2u);
  EXPECT_EQ(m.flows()[1].name, "buy");
  EXPECT_EQ(m.flows()[1].first, 2u);
  EXPECT_EQ(m.flows()[1].count, 2u);
  EXPECT_EQ(m.flow_of(1), 0u);
  EXPECT_EQ(m.flow_of(3), 1u);
  EXPECT_EQ(m.steps()[0].think, std::chrono::seconds(1));
  EXPECT_EQ(m.steps()[3].think, std::chrono::seconds(2));
  EXPECT_EQ(m.variable_count(), 1u);
}

TEST(ScenarioMix, APlainScenarioIsOneFlowAndNeverDraws) {
  auto s = Scenario::parse("steps: [{path: /a}, {path: /b}]\n");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_FALSE((*s)->is_mix());
  ASSERT_EQ((*s)->flows().size(), 1u);
  EXPECT_EQ((*s)->flows()[0].count, 2u);
  EXPECT_EQ((*s)->seed(), 1u);
  EXPECT_EQ((*s)->pick_flow(1, 5, 9), 0u);
}

std::shared_ptr<const Scenario> mix_of(const std::vector<double>& weights) {
  std::string yaml = "scenarios:\n";
  for (std::size_t i = 0; i < weights.size(); ++i)
    yaml += "  - {name: s" + std::to_string(i) + ", weight: " + std::to_string(weights[i]) + ", steps: [{path: /" +
            std::to_string(i) + "}]}\n";
  auto s = Scenario::parse(yaml);
  EXPECT_TRUE(s.ok()) << s.error();
  return *s;
}

// 200,000 draws over 2,000 users (100 passes each) on a fixed seed: each share is within 0.01 of
// its weight's share (five standard deviations of a binomial share at this count is <= 0.0056).
TEST(ScenarioMix, DrawsFollowTheWeightsOnAFixedSeed) {
  const std::vector<double> weights{1, 2, 7};
  auto s = mix_of(weights);
  std::vector<double> counts(weights.size(), 0);
  const int users = 2000, passes = 100;
  for (int u = 0; u < users; ++u)
    for (int p = 0; p < passes; ++p)
      ++counts[s->pick_flow(12345, static_cast<std::uint64_t>(u), static_cast<std::uint64_t>(p))];
  const double total = users * passes;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(counts[i] / total, weights[i] / 10.0, 0.01) << "scenario " << i;
  }
}

// Each user's own sequence follows the weights too (not only the sum over users).
TEST(ScenarioMix, OneUsersPassesFollowTheWeights) {
  auto s = mix_of({3, 1});
  double first = 0;
  const int passes = 100'000;
  for (int p = 0; p < passes; ++p) first += s->pick_flow(7, 0, static_cast<std::uint64_t>(p)) == 0 ? 1 : 0;
  EXPECT_NEAR(first / passes, 0.75, 0.01);
}

TEST(ScenarioMix, TheSameSeedDrawsTheSameSequenceAndAnotherSeedAnother) {
  auto s = mix_of({1, 1});
  std::vector<std::size_t> a, b, c;
  for (std::uint64_t p = 0; p < 64; ++p) {
    a.push_back(s->pick_flow(9, 3, p));
    b.push_back(s->pick_flow(9, 3, p));
    c.push_back(s->pick_flow(10, 3, p));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);  // 2^-64 to be equal by chance
}

}  // namespace
}  // namespace chaosplus::load
