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
    ::testing::Values(BadScenario{"NoSteps", "think: 1s\n", "steps"},
                      BadScenario{"UnknownKey", "steps:\n  - path: /\n    pth: /x\n", "unknown key 'pth'"},
                      BadScenario{"UndefinedVariable", "steps:\n  - path: /${nope}\n", "${nope}"},
                      BadScenario{"BadThink", "steps:\n  - path: /\n    think: soon\n", "think"},
                      BadScenario{"PathWithoutSlash", "steps:\n  - path: x\n", "path must start with /"},
                      BadScenario{"RegexWithoutGroup", "steps:\n  - path: /\n    extract: {a: {regex: 'x'}}\n", "group"},
                      BadScenario{"UnknownSource", "steps:\n  - path: /\n    extract: {a: {xpath: '/x'}}\n", "xpath"},
                      BadScenario{"NotYaml", "steps: [\n", "invalid YAML"}),
    [](const auto& test) { return std::string(test.param.name); });

}  // namespace
}  // namespace chaosplus::load
