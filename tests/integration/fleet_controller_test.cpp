// The controller's side of targets on agents (docs/agents.md), against a real etcd: what a run
// needs before anything starts, the run lease and its loss, `chaosplus agents`, and recover of a
// fault an agent held.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "etcd/client.h"
#include "fleet/protocol.h"
#include "fleet/session.h"
#include "support/etcd_cluster.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// One etcd member on loopback (tests/support/etcd_cluster.h).
class Etcd {
 public:
  Etcd() : cluster_(1) {}
  bool ready() const { return cluster_.ok(); }
  std::string error() const { return cluster_.error(); }
  std::string url() const { return cluster_.endpoint(0); }
  std::unique_ptr<etcd::Client> client() const {
    etcd::Options o;
    o.endpoints = {url()};
    auto c = etcd::Client::connect(o);
    return c ? std::move(c).value() : nullptr;
  }

 private:
  testing::EtcdCluster cluster_;
};

int run(const std::vector<std::string>& args, std::string& output, const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv{bin("chaosplus")};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, env);
  const auto code = child.wait(90s);
  output = child.output();
  return code.value_or(-1);
}

std::string experiment_on_agents(const std::string& marker) {
  return "name: fleet\n"
         "targets:\n"
         "  local: { process: { command: [sh, -c, \"touch " +
         marker +
         "; sleep 60\"] } }\n"
         "  db:\n"
         "    on: {role: db}\n"
         "    process: {command: [sleep, \"60\"]}\n"
         "phases:\n"
         "  - name: p\n"
         "    duration: 1s\n"
         "    faults:\n"
         "      - pause: {target: db}\n";
}

TEST(FleetRun, AnExperimentOnAgentsWithoutEtcdFailsBeforeAnythingStarts) {
  TempDir dir;
  const std::string marker = dir.file("started");
  testing::write_file(dir.file("f.yaml"), experiment_on_agents(marker));
  testing::write_file(dir.file("none.yaml"), "");  // a config file with no etcd: in it
  std::string output;
  const int again = run({"run", dir.file("f.yaml"), "--state-dir", dir.file("state"), "--runs-dir", dir.file("runs")},
                        output, {{"CHAOSPLUS_ETCD", ""}, {"CHAOSPLUS_CONFIG", dir.file("none.yaml")}});
  EXPECT_EQ(again, 3) << output;
  EXPECT_TRUE(contains(output, dir.file("f.yaml") + ":5:9: target 'db' is on agents (on:) but no etcd is configured"))
      << output;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a local target was started";
  EXPECT_FALSE(std::filesystem::exists(dir.file("runs"))) << "a journal was written";
}

TEST(FleetRun, NoMatchingAgentStopsTheRunBeforeAnyTargetAndEndsTheLease) {
  Etcd etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.error();
  TempDir dir;
  const std::string marker = dir.file("started");
  testing::write_file(dir.file("f.yaml"), experiment_on_agents(marker));
  testing::write_file(dir.file("c.yaml"), "");
  std::string output;
  const int code = run({"run", dir.file("f.yaml"), "--etcd", etcd.url(), "--state-dir", dir.file("state"), "--runs-dir",
                        dir.file("runs"), "--plain"},
                       output, {{"CHAOSPLUS_CONFIG", dir.file("c.yaml")}});
  EXPECT_EQ(code, 3) << output;
  EXPECT_TRUE(contains(output, "target 'db'")) << output;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a local target was started";
  auto client = etcd.client();
  ASSERT_TRUE(client);
  auto live = client->get_prefix("/chaosplus/live/");
  ASSERT_TRUE(live) << live.error();
  EXPECT_TRUE(live->empty()) << "the run's live key outlived it";
}

TEST(FleetSession, WritesTheLiveKeyUnderTheRunLeaseAndRemovesItOnClose) {
  Etcd etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.error();
  EventBus bus;
  HaltSwitch halt;
  fleet::Session::Settings settings;
  settings.etcd.endpoints = {etcd.url()};
  settings.run = "run-1";
  settings.experiment = "fleet";
  settings.ttl = 2s;
  auto session = fleet::Session::open(settings, bus, halt);
  ASSERT_TRUE(session) << session.error();
  auto client = etcd.client();
  auto live = client->get(fleet::keys::live("run-1"));
  ASSERT_TRUE(live && *live);
  auto info = fleet::run_from_json((*live)->value);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->lease, (*session)->lease());
  EXPECT_EQ(info->ttl_ms, 2000);
  EXPECT_EQ((*live)->lease, (*session)->lease());
  // Kept alive past its TTL while the session is open.
  ASSERT_FALSE(halt.wait_for(3s)) << halt.reason();
  EXPECT_TRUE(client->get(fleet::keys::live("run-1")).value().has_value());
  (*session)->close();
  EXPECT_FALSE(client->get(fleet::keys::live("run-1")).value().has_value());
  EXPECT_FALSE(halt.triggered()) << halt.reason();
}

TEST(FleetSession, ACommandGoesUnderTheLeaseAndAnUnansweredOneNamesTheAgent) {
  Etcd etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.error();
  EventBus bus;
  HaltSwitch halt;
  fleet::Session::Settings settings;
  settings.etcd.endpoints = {etcd.url()};
  settings.run = "run-2";
  auto session = fleet::Session::open(settings, bus, halt);
  ASSERT_TRUE(session) << session.error();
  fleet::Command command;
  command.op = fleet::Command::Op::teardown;
  auto seq = (*session)->send("db-1", command);
  ASSERT_TRUE(seq) << seq.error();
  auto client = etcd.client();
  auto written = client->get(fleet::keys::work("db-1", "run-2", *seq));
  ASSERT_TRUE(written && *written);
  EXPECT_EQ((*written)->lease, (*session)->lease());
  auto parsed = fleet::command_from_json((*written)->value);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->run, "run-2");
  EXPECT_EQ(parsed->lease, (*session)->lease());
  auto reply = (*session)->await("db-1", *seq, 300ms);
  ASSERT_FALSE(reply);
  EXPECT_TRUE(contains(reply.error(), "agent db-1 did not answer")) << reply.error();
}

// The dead-man switch seen from the controller: once etcd no longer has the run lease, the run halts.
TEST(FleetSession, LosingTheRunLeaseHaltsTheRun) {
  Etcd etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.error();
  EventBus bus;
  HaltSwitch halt;
  fleet::Session::Settings settings;
  settings.etcd.endpoints = {etcd.url()};
  settings.run = "run-3";
  settings.ttl = 2s;
  auto session = fleet::Session::open(settings, bus, halt);
  ASSERT_TRUE(session) << session.error();
  auto client = etcd.client();
  ASSERT_TRUE(client->revoke_lease((*session)->lease()));
  ASSERT_TRUE(halt.wait_for(10s)) << "no halt after the lease was revoked";
  EXPECT_TRUE(contains(halt.reason(), "lost the run lease")) << halt.reason();
}

TEST(AgentsCommand, ListsNoAgentWhenNoneIsRegistered) {
  Etcd etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.error();
  TempDir dir;
  testing::write_file(dir.file("c.yaml"), "");
  std::string output;
  EXPECT_EQ(run({"agents", "--etcd", etcd.url()}, output, {{"CHAOSPLUS_CONFIG", dir.file("c.yaml")}}), 0) << output;
  EXPECT_TRUE(contains(output, "no agent registered")) << output;
  EXPECT_EQ(run({"agents", "--etcd", etcd.url(), "--json"}, output, {{"CHAOSPLUS_CONFIG", dir.file("c.yaml")}}), 0)
      << output;
  EXPECT_TRUE(contains(output, "[]")) << output;
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return open;
}

// ---- with a real agent (`chaosplus agent`) on this host --------------------------------------

std::vector<nlohmann::json> journal_events(const std::string& path, const std::string& type) {
  std::vector<nlohmann::json> out;
  if (!std::filesystem::exists(path)) return out;
  for (const auto& line : testing::read_lines(path)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

class FleetWithAgent : public ::testing::Test {
 protected:
  int run_recover(std::string& output) {
    Child recover({bin("chaosplus"), "recover", "--state-dir", dir_.file("state")}, env());
    const auto code = recover.wait(60s);
    output = recover.output();
    return code.value_or(-1);
  }
  void SetUp() override {
    ASSERT_TRUE(etcd_.ready()) << etcd_.error();
    testing::write_file(dir_.file("config.yaml"), "");
    agent_ = std::make_unique<Child>(
        std::vector<std::string>{bin("chaosplus"), "agent", "--etcd", etcd_.url(), "--name", "db-1", "--label",
                                 "role=db", "--state-dir", dir_.file("agent-state"), "--ttl", "2s"},
        env());
    client_ = etcd_.client();
    ASSERT_TRUE(client_);
    ASSERT_TRUE(testing::wait_until(
        [&] {
          auto kv = client_->get(fleet::keys::agent("db-1"));
          return (kv && kv->has_value()) || !agent_->running();
        },
        20s))
        << agent_->output();
    ASSERT_TRUE(agent_->running()) << agent_->output();
  }
  void TearDown() override {
    if (!agent_) return;
    agent_->signal(SIGTERM);
    EXPECT_EQ(agent_->wait(30s).value_or(-1), 0) << agent_->output();
  }
  std::map<std::string, std::string> env() const { return {{"CHAOSPLUS_CONFIG", dir_.file("config.yaml")}}; }
  std::vector<std::string> run_args(const std::string& file) const {
    return {bin("chaosplus"),
            "run",
            file,
            "--etcd",
            etcd_.url(),
            "--lease-ttl",
            "2s",
            "--plain",
            "--state-dir",
            dir_.file("state"),
            "--journal",
            dir_.file("journal.jsonl")};
  }

  Etcd etcd_;
  TempDir dir_;
  std::unique_ptr<Child> agent_;
  std::unique_ptr<etcd::Client> client_;
};

// The quickstart shape with its target on an agent: the agent starts the service behind its fault
// proxy, the probes go through that proxy from the controller, a latency and a kill run on the agent,
// and the run ends held with everything put back, as it does locally.
TEST_F(FleetWithAgent, RunsALatencyThroughTheAgentsProxyAndAKillThenRestores) {
  const int port = testing::free_port();
  const int proxy = testing::free_port();
  const std::string at = "127.0.0.1:" + std::to_string(port);
  const std::string via = "127.0.0.1:" + std::to_string(proxy);
  testing::write_file(dir_.file("e.yaml"),
                      "name: fleet-tokens\n"
                      "targets:\n"
                      "  tokens:\n"
                      "    on: {role: db}\n"
                      "    process:\n"
                      "      command: [demo-token-service, --port, \"" +
                          std::to_string(port) +
                          "\"]\n"
                          "      ready: { http: \"http://" +
                          at +
                          "/health\" }\n"
                          "    endpoint: \"" +
                          at +
                          "\"\n"
                          "    proxy: { listen: \"" +
                          via + "\", upstream: \"" + at +
                          "\" }\n"
                          "steady_state:\n"
                          "  probes:\n"
                          "    - name: health\n"
                          "      http: { url: \"http://" +
                          via +
                          "/health\", timeout: 2s }\n"
                          "      expect: { status: 200 }\n"
                          "      every: 100ms\n"
                          "      tolerance: { success_rate: \">= 50%\" }\n"
                          "phases:\n"
                          "  - name: slow\n"
                          "    duration: 2s\n"
                          "    faults:\n"
                          "      - latency: { target: tokens, latency: 400ms }\n"
                          "  - name: killed\n"
                          "    duration: 2s\n"
                          "    faults:\n"
                          "      - kill: { target: tokens }\n");
  Child run(run_args(dir_.file("e.yaml")), env());
  const auto code = run.wait(120s);
  const std::string out = run.output();
  ASSERT_TRUE(code.has_value()) << out;
  EXPECT_EQ(*code, 0) << out;
  const std::string journal = dir_.file("journal.jsonl");
  const auto setup = journal_events(journal, "agent.setup");
  ASSERT_EQ(setup.size(), 1u) << out;
  EXPECT_TRUE(setup[0].value("ok", false)) << setup[0].dump();
  EXPECT_EQ(setup[0].value("agent", ""), "db-1");
  const auto selected = journal_events(journal, "agents.selected");
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0].value("agents", ""), "db-1");
  const auto injected = journal_events(journal, "fault.injected");
  ASSERT_EQ(injected.size(), 2u) << out;
  for (const auto& e : injected) EXPECT_TRUE(contains(e.value("summary", ""), "db-1")) << e.dump();
  const auto reverted = journal_events(journal, "fault.reverted");
  ASSERT_EQ(reverted.size(), 2u) << out;
  for (const auto& e : reverted) EXPECT_TRUE(e.value("ok", false)) << e.dump();
  // Through the agent's proxy: the probes under the latency took at least its delay.
  const double on = injected[0].value("elapsed_ms", 0.0);
  const double off = reverted[0].value("elapsed_ms", 0.0) - reverted[0].value("took_ms", 0.0);
  int slow = 0;
  for (const auto& r : journal_events(journal, "probe.result")) {
    const double ended = r.value("elapsed_ms", 0.0);
    const double latency = r.value("latency_ms", 0.0);
    if (r.value("stage", "") == "during" && ended - latency > on && ended < off) {
      EXPECT_GE(latency, 390.0) << r.dump();
      ++slow;
    }
  }
  EXPECT_GE(slow, 1) << "no probe ran under the latency";
  const auto teardown = journal_events(journal, "agent.teardown");
  ASSERT_EQ(teardown.size(), 1u) << out;
  EXPECT_TRUE(teardown[0].value("ok", false)) << teardown[0].dump();
  // Put back: the agent stopped the service and its proxy; the run's keys are gone.
  EXPECT_TRUE(testing::wait_until([&] { return !port_open(port); }, 10s));
  EXPECT_TRUE(client_->get_prefix("/chaosplus/live/").value().empty());
  EXPECT_TRUE(client_->get_prefix("/chaosplus/status/").value().empty());
}

// The second dead-man switch end to end: the controller is killed while a fault is on; the agent
// reverts it once the run lease is gone, and `recover` finds the agent's revert in etcd.
TEST_F(FleetWithAgent, KillingTheControllerMidFaultLeavesTheRevertToTheAgentAndRecoverSeesIt) {
  testing::write_file(dir_.file("p.yaml"),
                      "name: fleet-pause\n"
                      "targets:\n"
                      "  sleeper:\n"
                      "    on: {role: db}\n"
                      "    process: {command: [sleep, \"600\"]}\n"
                      "phases:\n"
                      "  - name: paused\n"
                      "    duration: 60s\n"
                      "    faults:\n"
                      "      - pause: { target: sleeper }\n");
  Child run(run_args(dir_.file("p.yaml")), env());
  const std::string journal = dir_.file("journal.jsonl");
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(journal, "fault.injected").empty(); }, 60s))
      << run.output();
  const auto setup = journal_events(journal, "agent.setup");
  ASSERT_EQ(setup.size(), 1u);
  const int pid = static_cast<int>(setup[0].value("pid.sleeper", 0.0));
  ASSERT_GT(pid, 0) << setup[0].dump();
  ASSERT_EQ(testing::process_state(pid), 'T');
  const auto killed = std::chrono::steady_clock::now();
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(10s).has_value());
  // The lease's TTL (2s) and the agent's look: well within 2s + 3s.
  ASSERT_TRUE(testing::wait_until([&] { return testing::process_state(pid) != 'T'; }, 5s))
      << "the agent did not revert the pause";
  std::cout << "revert after kill -9: "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count() << " s\n";
  // recover: the controller's ledger entry is the agent's fault, found reverted in etcd.
  std::string output;
  EXPECT_EQ(run_recover(output), 0) << output;
  EXPECT_TRUE(contains(output, "recover: reverted agent.fault")) << output;
  EXPECT_TRUE(contains(output, "db-1")) << output;
}

}  // namespace
}  // namespace chaosplus
