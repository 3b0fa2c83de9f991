// `chaosplus server`'s API as a client sees it: the token on every changing call, 4xx with a reason
// for bad input, loopback by default, /metrics that Prometheus can scrape, the dashboard page.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/prometheus.h"
#include "support/server_process.h"

namespace chaosplus {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::ServerProcess;

std::string error_of(const net::Response& r) {
  auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_string())
    return "<no error field: " + r.body + ">";
  return body["error"];
}

TEST(ServerApi, EveryChangingCallIsRefusedWithoutTheTokenOrWithAWrongOne) {
  ServerProcess server;
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"POST", "/api/runs"},          {"POST", "/api/halt"},     {"POST", "/api/runs/x/halt"},
      {"POST", "/api/recover"},       {"DELETE", "/api/runs/x"}, {"PUT", "/api/runs"},
      {"PATCH", "/api/experiments"},  {"POST", "/metrics"},      {"POST", "/"},
      {"POST", "/api/no-such-route"}, {"DELETE", "/api/halt"},
  };
  for (const auto& [method, path] : calls) {
    for (const std::string& token : {std::string(), std::string("wrong-token-0123456789abcdef")}) {
      auto r = server.call(method, path, R"({"experiment":"quickstart.yaml"})", token);
      EXPECT_EQ(r.status, 401) << method << " " << path << " token '" << token << "': " << r.body;
      EXPECT_TRUE(r.header("WWW-Authenticate").starts_with("Bearer")) << method << " " << path;
      EXPECT_NE(error_of(r).find(token.empty() ? "Authorization: Bearer" : "wrong bearer token"), std::string::npos)
          << r.body;
    }
  }
  // The same token with one character changed, and one character short.
  std::string near(testing::kServerToken);
  near.back() = near.back() == 'x' ? 'y' : 'x';
  EXPECT_EQ(server.call("POST", "/api/halt", {}, near).status, 401);
  EXPECT_EQ(server.call("POST", "/api/halt", {}, near.substr(1)).status, 401);
  // Reads need none; the right token is let through.
  EXPECT_EQ(server.get("/api/runs").status, 200);
  EXPECT_EQ(server.call("POST", "/api/halt").status, 200);
}

TEST(ServerApi, BadInputIsAnsweredWithA4xxAndAReason) {
  ServerProcess server;
  testing::write_file(server.experiments() + "/broken.yaml", "name: broken\nphases: 3\n");
  struct Case {
    std::string method, target, body;
    int status;
    std::string reason;  // a piece of the error message
  };
  const std::vector<Case> cases = {
      {"POST", "/api/runs", R"({"experiment": "quickstart.yaml")", 400, "bad JSON at byte 33"},
      {"POST", "/api/runs", "", 400, "no body"},
      {"POST", "/api/runs", "[1,2]", 400, "expected a JSON object"},
      {"POST", "/api/runs", "{}", 400, "field 'experiment' is required"},
      {"POST", "/api/runs", R"({"experiment": 5})", 400, "field 'experiment' is required"},
      {"POST", "/api/runs", R"({"experiment": "x.yaml", "extra": 1})", 400, "unknown field 'extra'"},
      {"POST", "/api/runs", R"({"experiment": "nope.yaml"})", 404, "no experiment 'nope.yaml'"},
      {"POST", "/api/runs", R"({"experiment": "../etc/passwd.yaml"})", 400, "no folders"},
      {"POST", "/api/runs", R"({"experiment": "broken.yaml", "vars": []})", 400, "field 'vars' must be an object"},
      {"POST", "/api/runs", R"({"experiment": "broken.yaml", "vars": {"a b": "1"}})", 400, "is not a variable name"},
      {"POST", "/api/runs", R"({"experiment": "broken.yaml"})", 422, "broken.yaml is not a valid experiment"},
      {"GET", "/api/runs?limit=0", "", 400, "limit must be a whole number from 1 to 1000"},
      {"GET", "/api/runs?since=yesterday", "", 400, "since: 'yesterday' is not a time"},
      {"GET", "/api/runs?status=sleeping", "", 400, "status 'sleeping' is not a run status"},
      {"GET", "/api/runs/no-such-run", "", 404, "no run 'no-such-run'"},
      {"GET", "/api/runs/no-such-run/events", "", 404, "no run 'no-such-run'"},
      {"GET", "/api/runs/no-such-run/events/stream", "", 404, "no run 'no-such-run'"},
      {"GET", "/api/runs/x/events?after=-1", "", 400, "after must be a whole number"},
      {"POST", "/api/runs/no-such-run/halt", "", 404, "no run 'no-such-run'"},
      {"POST", "/api/halt?wait=forever", "", 400, "wait: expected a duration"},
      {"DELETE", "/api/experiments", "", 405, "method DELETE is not allowed on /api/experiments"},
      {"GET", "/api/halt", "", 405, "only POST"},
      {"GET", "/api/nothing", "", 404, "no such route: GET /api/nothing"},
      {"GET", "/nothing", "", 404, "no such page"},
  };
  for (const auto& c : cases) {
    auto r = server.call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << ": " << r.body;
    EXPECT_NE(error_of(r).find(c.reason), std::string::npos) << c.method << " " << c.target << ": " << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json") << c.target;
  }
  // The invalid experiment's answer lists its problems with their positions.
  auto invalid = server.call("POST", "/api/runs", R"({"experiment": "broken.yaml"})");
  auto body = json::parse(invalid.body);
  ASSERT_TRUE(body["errors"].is_array());
  EXPECT_NE(body["errors"][0].get<std::string>().find("broken.yaml:"), std::string::npos) << invalid.body;
  // A body over the limit is refused by the HTTP layer, in the API's JSON shape.
  auto big = server.call("POST", "/api/runs", std::string(2 * 1024 * 1024, ' '));
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_FALSE(error_of(big).starts_with("<no error")) << big.body;
}

TEST(ServerApi, ListensOnLoopbackUnlessToldOtherwise) {
  // No --listen: the default address. Port 7070 may be taken on a test machine; either way what
  // the server says names 127.0.0.1 and nothing else.
  testing::TempDir dir;
  testing::Child server({testing::bin("chaosplus"), "server", "--state-dir", dir.file("state"), "--store",
                         dir.file("results.db"), "--experiments", dir.path()},
                        {{"CHAOSPLUS_TOKEN", testing::kServerToken}});
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto out = server.output();
        return out.find("chaosplus server on") != std::string::npos || out.find("cannot listen") != std::string::npos;
      },
      20s))
      << server.output();
  const auto out = server.output();
  if (out.find("chaosplus server on") != std::string::npos) {
    EXPECT_NE(out.find("chaosplus server on http://127.0.0.1:7070/"), std::string::npos) << out;
  } else {
    EXPECT_NE(out.find("cannot listen on 127.0.0.1:7070"), std::string::npos) << out;
  }
  EXPECT_EQ(out.find("WARNING"), std::string::npos) << out;
}

TEST(ServerApi, WithoutATokenItWritesARandomOneForItsOwnerOnly) {
  ServerProcess server({}, {}, {{"CHAOSPLUS_TOKEN", ""}});
  const std::string path = server.state_dir() + "/server.token";
  const std::string token = testing::read_file(path).substr(0, 64);
  EXPECT_EQ(token.size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(server.child().output().find(path), std::string::npos) << server.child().output();
  EXPECT_EQ(server.call("POST", "/api/halt", {}, testing::kServerToken).status, 401);
  EXPECT_EQ(server.call("POST", "/api/halt", {}, token).status, 200);
}

TEST(ServerApi, MetricsParseAsPrometheusText) {
  ServerProcess server;
  server.get("/api/runs");
  server.call("POST", "/api/halt", {}, "");
  auto r = server.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto page = testing::parse_prometheus(r.body);
  ASSERT_TRUE(page.ok()) << page.error << "\n" << r.body;
  EXPECT_EQ(page.value("chaosplus_server_requests_total", {{"route", "/api/runs"}, {"code", "200"}}), 1);
  EXPECT_EQ(page.value("chaosplus_server_requests_total", {{"route", "unauthorized"}, {"code", "401"}}), 1);
  EXPECT_EQ(page.value("chaosplus_runs", {{"status", "running"}}), 0);
  EXPECT_EQ(page.value("chaosplus_server_event_streams"), 0);
  for (const char* family : {"chaosplus_active_faults", "chaosplus_probe_success", "chaosplus_probe_latency_seconds",
                             "chaosplus_load_requests_per_second", "chaosplus_load_latency_p99_seconds",
                             "chaosplus_load_errors", "chaosplus_load_error_ratio"}) {
    EXPECT_EQ(page.types[family], "gauge") << family;
  }
}

TEST(ServerApi, ServesTheDashboardAndItsChartCodeFromTheBinary) {
  ServerProcess server;
  auto page = server.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  for (const char* hook : {"id=\"halt\"", "id=\"runs\"", "data-chart=\"probe-latency\"", "id=\"run-status\"",
                           "window.chaosplusEvents", "src=\"/assets/chart.js\""}) {
    EXPECT_NE(page.body.find(hook), std::string::npos) << hook;
  }
  EXPECT_EQ(page.body.find("http://"), std::string::npos) << "the page fetches nothing from elsewhere";
  EXPECT_EQ(page.body.find("https://"), std::string::npos) << "the page fetches nothing from elsewhere";
  auto chart = server.get("/assets/chart.js");
  ASSERT_EQ(chart.status, 200);
  EXPECT_GT(chart.body.size(), 100'000u);
  EXPECT_NE(chart.body.find("Chart"), std::string::npos);
  auto types = json::parse(server.get("/api/event-types").body);
  bool verdict = false;
  for (const auto& t : types["types"]) verdict = verdict || t["type"] == "run.verdict";
  EXPECT_TRUE(verdict);
}

TEST(ServerApi, ListsTheExperimentsWithTheirValidity) {
  ServerProcess server;
  testing::write_file(server.experiments() + "/quickstart.yaml",
                      testing::read_file(testing::source_path("experiments/quickstart.yaml")));
  testing::write_file(server.experiments() + "/broken.yaml", "name: broken\n");
  auto body = json::parse(server.get("/api/experiments").body);
  ASSERT_EQ(body["experiments"].size(), 2u) << body.dump();
  EXPECT_EQ(body["experiments"][0]["file"], "broken.yaml");
  EXPECT_EQ(body["experiments"][0]["valid"], false);
  EXPECT_EQ(body["experiments"][1]["file"], "quickstart.yaml");
  EXPECT_EQ(body["experiments"][1]["name"], "quickstart");
  EXPECT_EQ(body["experiments"][1]["valid"], true);
  EXPECT_FALSE(body["experiments"][1]["description"].get<std::string>().empty());
}

}  // namespace
}  // namespace chaosplus
