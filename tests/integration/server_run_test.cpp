// A run started through the server's API, watched over Server-Sent Events and /metrics, and halted
// through the API: it ends aborted with every fault reverted (the ledger has no open fault).
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>

#include "faults/undo.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/prometheus.h"
#include "support/server_process.h"

namespace chaosplus {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::ServerProcess;

// The quickstart as shipped, on free ports (its own are fixed), in the server's experiments folder.
void write_quickstart(const std::string& folder) {
  std::string text = testing::read_file(testing::source_path("experiments/quickstart.yaml"));
  for (const char* port : {"18080", "18090", "18091"}) {
    text = std::regex_replace(text, std::regex(port), std::to_string(testing::free_port()));
  }
  testing::write_file(folder + "/quickstart.yaml", text);
}

json events_of(ServerProcess& server, const std::string& id) {
  auto r = server.get("/api/runs/" + id + "/events");
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body)["events"];
}

bool has_event(const json& events, const std::string& type) {
  for (const auto& e : events) {
    if (e["type"] == type) return true;
  }
  return false;
}

int open_faults(const std::string& state_dir, const std::string& run_id) {
  auto ledger = runner::Ledger::open_for_inspection(runner::ledger_path(state_dir));
  EXPECT_TRUE(ledger.ok()) << ledger.error();
  if (!ledger) return -1;
  auto entries = (*ledger)->open_entries(run_id);
  EXPECT_TRUE(entries.ok());
  int n = 0;
  for (const auto& e : *entries) n += faults::undo_stage(e.kind) == faults::UndoStage::fault ? 1 : 0;
  return n;
}

class ServerRun : public ::testing::Test {
 protected:
  void TearDown() override {
    // Whatever happened above, no run started here outlives the test.
    if (server_) server_->call("POST", "/api/halt?wait=20s");
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerRun, StartingTheQuickstartThenHaltingItEndsAbortedWithEveryFaultReverted) {
  server_ = std::make_unique<ServerProcess>();
  ServerProcess& server = *server_;
  write_quickstart(server.experiments());

  auto started = server.call("POST", "/api/runs", R"({"experiment": "quickstart.yaml"})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = json::parse(started.body)["id"];
  EXPECT_EQ(started.header("Location"), "/api/runs/" + id);
  // The run's row exists when the 201 comes: it is listed, running.
  auto listed = json::parse(server.get("/api/runs?status=running").body)["runs"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["id"], id);

  // A live stream from the start, read while the run goes on.
  auto live = std::async(std::launch::async, [&] {
    int status = 0;
    auto events = testing::read_event_stream(server.port(), "/api/runs/" + id + "/events/stream", "", status);
    return std::make_pair(status, events);
  });

  // Halted once its first fault (the latency toxic) is on, which /metrics shows meanwhile.
  ASSERT_TRUE(testing::wait_until([&] { return has_event(events_of(server, id), "fault.injected"); }, 30s));
  auto page = testing::parse_prometheus(server.get("/metrics").body);
  ASSERT_TRUE(page.ok()) << page.error;
  EXPECT_EQ(page.value("chaosplus_active_faults", {{"run", id}, {"kind", "proxy.toxic"}}), 1);
  EXPECT_EQ(page.value("chaosplus_runs", {{"status", "running"}}), 1);
  EXPECT_TRUE(page.value("chaosplus_probe_success", {{"run", id}, {"probe", "checkout"}}).has_value());
  EXPECT_EQ(open_faults(server.state_dir(), id), 1);

  auto halted = server.call("POST", "/api/runs/" + id + "/halt");
  ASSERT_EQ(halted.status, 200) << halted.body;
  auto report = json::parse(halted.body);
  ASSERT_EQ(report["runs"].size(), 1u) << halted.body;
  EXPECT_EQ(report["runs"][0]["id"], id);
  EXPECT_TRUE(report["runs"][0]["faults_reverted_s"].is_number()) << halted.body;
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(open_faults(server.state_dir(), id), 0);

  ASSERT_TRUE(
      testing::wait_until([&] { return json::parse(server.get("/api/runs/" + id).body)["status"] != "running"; }, 30s));
  auto run = json::parse(server.get("/api/runs/" + id).body);
  EXPECT_EQ(run["status"], "finished");
  EXPECT_EQ(run["verdict"], "aborted");
  EXPECT_EQ(run["exit_code"], 2);
  EXPECT_NE(run["reasons"].get<std::string>().find("halted"), std::string::npos) << run.dump();
  page = testing::parse_prometheus(server.get("/metrics").body);
  EXPECT_FALSE(page.value("chaosplus_active_faults", {{"run", id}}).has_value());
  EXPECT_EQ(page.value("chaosplus_runs", {{"status", "finished"}}), 1);

  // The live stream carried every event in order, ended with the verdict, then closed.
  ASSERT_EQ(live.wait_for(60s), std::future_status::ready);
  auto [status, events] = live.get();
  EXPECT_EQ(status, 200);
  const auto stored = events_of(server, id);
  ASSERT_EQ(events.size(), stored.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, static_cast<long long>(i + 1));
    EXPECT_EQ(events[i].type, stored[i]["type"]);
    EXPECT_EQ(json::parse(events[i].data), stored[i]);
  }
  EXPECT_EQ(events.back().type, "run.verdict");
  EXPECT_TRUE(has_event(stored, "run.halted"));
  int reverted = 0;
  for (const auto& e : stored) reverted += e["type"] == "fault.reverted" && e["ok"] == true ? 1 : 0;
  EXPECT_EQ(reverted, 1);

  // A reconnect with Last-Event-ID resumes after it; one past the end gets 204 (no retry).
  int resumed_status = 0;
  auto resumed = testing::read_event_stream(server.port(), "/api/runs/" + id + "/events/stream", "5", resumed_status);
  EXPECT_EQ(resumed_status, 200);
  ASSERT_EQ(resumed.size(), stored.size() - 5);
  EXPECT_EQ(resumed.front().id, 6);
  EXPECT_EQ(resumed.back().type, "run.verdict");
  int end_status = 0;
  auto none = testing::read_event_stream(server.port(), "/api/runs/" + id + "/events/stream",
                                         std::to_string(stored.size()), end_status);
  EXPECT_EQ(end_status, 204);
  EXPECT_TRUE(none.empty());
  // ?after= does the same for clients that cannot set the header.
  auto after = testing::read_event_stream(server.port(), "/api/runs/" + id + "/events/stream?after=10", "", status);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front().id, 11);
  // The events route pages the same way.
  auto page_of = json::parse(server.get("/api/runs/" + id + "/events?after=3&limit=2").body);
  ASSERT_EQ(page_of["events"].size(), 2u);
  EXPECT_EQ(page_of["events"][0]["seq"], 4);
  EXPECT_EQ(page_of["next_after"], 5);
}

TEST_F(ServerRun, AHaltOfARunThatEndedIsAConflict) {
  server_ = std::make_unique<ServerProcess>();
  ServerProcess& server = *server_;
  write_quickstart(server.experiments());
  auto started = server.call("POST", "/api/runs", R"({"experiment": "quickstart.yaml"})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id = json::parse(started.body)["id"];
  // POST /api/halt halts every running run: this one too.
  auto halted = server.call("POST", "/api/halt");
  ASSERT_EQ(halted.status, 200) << halted.body;
  EXPECT_EQ(json::parse(halted.body)["runs"][0]["id"], id);
  ASSERT_TRUE(
      testing::wait_until([&] { return json::parse(server.get("/api/runs/" + id).body)["status"] != "running"; }, 30s));
  auto again = server.call("POST", "/api/runs/" + id + "/halt");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("is not running"), std::string::npos) << again.body;

  // Its reports and a comparison, from the store.
  auto html = server.get("/api/runs/" + id + "/report?format=html");
  ASSERT_EQ(html.status, 200) << html.body;
  EXPECT_EQ(html.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(html.body.find(id), std::string::npos);
  EXPECT_GT(html.body.size(), 100000u);  // self-contained: the chart code is inline
  auto junit = server.get("/api/runs/" + id + "/report?format=junit");
  ASSERT_EQ(junit.status, 200);
  EXPECT_NE(junit.body.find("<testsuites"), std::string::npos) << junit.body.substr(0, 300);
  auto sarif = json::parse(server.get("/api/runs/" + id + "/report?format=sarif").body);
  EXPECT_EQ(sarif["version"], "2.1.0");
  EXPECT_EQ(server.get("/api/runs/" + id + "/report?format=markdown").status, 200);
  auto bad = server.get("/api/runs/" + id + "/report?format=pdf");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("not one of html, markdown, junit, sarif"), std::string::npos) << bad.body;
  auto same = server.get("/api/compare?a=" + id + "&b=" + id);
  ASSERT_EQ(same.status, 200) << same.body;
  auto comparison = json::parse(same.body);
  EXPECT_EQ(comparison["regression"], false) << same.body;
  EXPECT_FALSE(comparison["rows"].empty());
  EXPECT_EQ(server.get("/api/compare?a=" + id).status, 400);
  EXPECT_EQ(server.get("/api/compare?a=" + id + "&b=no-such-run").status, 404);
}

TEST_F(ServerRun, RecoverRevertsWhatAKilledRunLeftAndTheStoreMarksItRecovered) {
  server_ = std::make_unique<ServerProcess>();
  ServerProcess& server = *server_;
  write_quickstart(server.experiments());
  auto started = server.call("POST", "/api/runs", R"({"experiment": "quickstart.yaml"})");
  ASSERT_EQ(started.status, 201) << started.body;
  const auto body = json::parse(started.body);
  const std::string id = body["id"];
  ASSERT_TRUE(testing::wait_until([&] { return has_event(events_of(server, id), "fault.injected"); }, 30s));
  ASSERT_EQ(::kill(body["pid"].get<int>(), SIGKILL), 0);  // the runner, not its targets
  ASSERT_TRUE(testing::wait_until([&] { return testing::pid_gone(body["pid"].get<int>()); }, 10s));
  EXPECT_EQ(open_faults(server.state_dir(), id), 1);

  auto recovered = server.call("POST", "/api/recover");
  ASSERT_EQ(recovered.status, 200) << recovered.body;
  auto report = json::parse(recovered.body);
  EXPECT_EQ(report["runs_recovered"], 1) << recovered.body;
  EXPECT_EQ(report["failed"], 0);
  EXPECT_EQ(open_faults(server.state_dir(), id), 0);
  auto run = json::parse(server.get("/api/runs/" + id).body);
  EXPECT_EQ(run["status"], "recovered") << run.dump();
  // Its stream ends at once (no verdict will come): every event, then the close.
  int status = 0;
  auto events = testing::read_event_stream(server.port(), "/api/runs/" + id + "/events/stream", "", status, 20s);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(events.size(), events_of(server, id).size());
}

}  // namespace
}  // namespace chaosplus
