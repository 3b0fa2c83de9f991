// `chaosplus agent` against a real etcd (tests/support/etcd_cluster.h) as real processes: the test
// is the controller, writing the protocol's commands (fleet/protocol.h) to etcd under a run lease
// it grants, and looks at the real effect on the target process (/proc) and at what the agent wrote
// back (replies, fault statuses, events). Covers registration, inject and revert, both dead-man
// switches (a fault's maximum duration; the run lease revoked, expired, or out of reach), a leader
// failover the lease survives (nothing reverted), and kill -9 of the agent followed by a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etcd/client.h"
#include "fleet/protocol.h"
#include "support/etcd_cluster.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::process_state;
using testing::wait_until;

// A target the agent starts, and the fault the tests put on it.
std::string experiment_yaml() {
  return R"(name: agent-test
targets:
  sleeper:
    process:
      command: [sleep, "600"]
phases:
  - name: chaos
    duration: 60s
    faults:
      - pause: { target: sleeper }
)";
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class AgentTest : public ::testing::Test {
 protected:
  void start_cluster(int members) {
    cluster_ = std::make_unique<testing::EtcdCluster>(members);
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    etcd::Options options;
    options.endpoints = cluster_->endpoints();
    auto client = etcd::Client::connect(options);
    ASSERT_TRUE(client.ok()) << client.error();
    client_ = std::move(client).value();
  }

  std::string endpoints() const {
    std::string joined;
    for (const auto& e : cluster_->endpoints()) joined += (joined.empty() ? "" : ",") + e;
    return joined;
  }

  std::unique_ptr<testing::Child> start_agent(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        testing::bin("chaosplus"),  "agent", "--etcd", endpoints(), "--name", name, "--state-dir",
        dir_.file("state-" + name), "--ttl", "2s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = std::make_unique<testing::Child>(argv);
    EXPECT_TRUE(wait_until([&] { return registered(name) || !child->running(); }, 20s)) << child->output();
    EXPECT_TRUE(registered(name)) << child->output();
    return child;
  }

  bool registered(const std::string& name) {
    auto kv = client_->get(fleet::keys::agent(name));
    return kv.ok() && kv->has_value();
  }

  // Stops the agent the way systemd does; it reverts what it holds and exits 0.
  void stop_agent(testing::Child& agent) {
    agent.signal(SIGTERM);
    auto code = agent.wait(30s);
    ASSERT_TRUE(code.has_value()) << agent.output();
    EXPECT_EQ(*code, 0) << agent.output();
  }

  // The run's lease and live key, as a controller opens a run.
  void open_run(const std::string& run, std::chrono::seconds ttl) {
    run_ = run;
    ttl_ = ttl;
    auto lease = client_->grant_lease(ttl);
    ASSERT_TRUE(lease.ok()) << lease.error();
    lease_ = *lease;
    fleet::RunInfo info;
    info.run = run;
    info.experiment = "agent-test";
    info.controller_host = "test";
    info.lease = lease_;
    info.ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
    ASSERT_TRUE(client_->put(fleet::keys::live(run), fleet::to_json(info), lease_).ok());
  }
  void keep_run_alive() {
    keeper_ = std::make_unique<etcd::LeaseKeeper>(*client_, lease_, ttl_, [](const std::string&) {});
  }

  std::int64_t send(const std::string& agent, fleet::Command command) {
    command.run = run_;
    command.seq = ++seq_;
    command.lease = lease_;
    command.ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl_).count();
    EXPECT_TRUE(client_->put(fleet::keys::work(agent, run_, command.seq), fleet::to_json(command), lease_).ok());
    return command.seq;
  }

  std::optional<fleet::Reply> await(const std::string& agent, std::int64_t seq, std::chrono::milliseconds timeout) {
    std::optional<fleet::Reply> reply;
    wait_until(
        [&] {
          auto kv = client_->get(fleet::keys::reply(run_, agent, seq));
          if (!kv.ok() || !kv->has_value()) return false;
          auto r = fleet::reply_from_json((*kv)->value);
          if (r.ok()) reply = *r;
          return r.ok();
        },
        timeout);
    return reply;
  }

  fleet::Reply call(const std::string& agent, fleet::Command command, std::chrono::milliseconds timeout = 30s) {
    const auto op = fleet::to_string(command.op);
    auto reply = await(agent, send(agent, std::move(command)), timeout);
    EXPECT_TRUE(reply.has_value()) << "no reply to " << op;
    return reply.value_or(fleet::Reply{});
  }

  // Sets up the sleeper on `agent`; its pid.
  int setup(const std::string& agent, const std::string& yaml = experiment_yaml()) {
    fleet::Command c;
    c.op = fleet::Command::Op::setup;
    c.experiment_yaml = yaml;
    c.source_path = "agent-test.yaml";
    c.targets = {"sleeper"};
    const fleet::Reply r = call(agent, c);
    EXPECT_TRUE(r.ok) << r.error;
    const auto it = r.pids.find("sleeper");
    EXPECT_NE(it, r.pids.end());
    return it == r.pids.end() ? 0 : static_cast<int>(it->second);
  }

  fleet::Reply inject(const std::string& agent, std::int64_t max_ms = 60000) {
    fleet::Command c;
    c.op = fleet::Command::Op::inject;
    c.fault_id = "f1";
    c.phase = "chaos";
    c.index = 0;
    c.max_ms = max_ms;
    return call(agent, c);
  }

  // Sets up the sleeper on `agent` and pauses it there; its pid, or 0 (and a failure) if any step failed.
  int setup_and_pause(const std::string& agent) {
    const int pid = setup(agent);
    if (pid <= 0) return 0;
    if (!inject(agent).ok) {
      ADD_FAILURE() << "inject failed";
      return 0;
    }
    if (!wait_until([&] { return paused(pid); }, 5s)) {
      ADD_FAILURE() << "not paused";
      return 0;
    }
    return pid;
  }

  std::optional<fleet::FaultStatus> status(const std::string& agent, const std::string& fault_id = "f1") {
    auto kv = client_->get(fleet::keys::status(run_, agent, fault_id));
    if (!kv.ok() || !kv->has_value()) return std::nullopt;
    auto s = fleet::status_from_json((*kv)->value);
    return s.ok() ? std::optional(*s) : std::nullopt;
  }
  bool status_is(const std::string& agent, const std::string& state, const std::string& why) {
    auto s = status(agent);
    return s && s->state == state && (why.empty() || s->why == why);
  }

  std::vector<std::string> event_types(const std::string& agent) {
    std::vector<std::string> types;
    auto kvs = client_->get_prefix(fleet::keys::events_prefix(run_) + agent + "/");
    if (!kvs.ok()) return types;
    for (const auto& kv : *kvs) {
      const auto at = kv.value.find("\"type\":\"");
      if (at != std::string::npos) types.push_back(kv.value.substr(at + 8, kv.value.find('"', at + 8) - at - 8));
    }
    return types;
  }

  static bool paused(int pid) { return process_state(pid) == 'T'; }

  testing::TempDir dir_;
  std::unique_ptr<testing::EtcdCluster> cluster_;
  std::unique_ptr<etcd::Client> client_;
  std::unique_ptr<etcd::LeaseKeeper> keeper_;
  std::string run_;
  std::chrono::seconds ttl_{5};
  std::int64_t lease_ = 0;
  std::int64_t seq_ = 0;
};

TEST_F(AgentTest, RegistersWithItsLabelsAndLeavesOnSigterm) {
  start_cluster(1);
  auto agent = start_agent("a1", {"--label", "role=db", "--label", "zone=a"});
  auto kv = client_->get(fleet::keys::agent("a1"));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  auto info = fleet::agent_from_json((*kv)->value);
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(info->name, "a1");
  EXPECT_EQ(info->labels.at("role"), "db");
  EXPECT_EQ(info->labels.at("zone"), "a");
  EXPECT_EQ(info->pid, agent->pid());
  EXPECT_NE((*kv)->lease, 0) << "registered under a lease";
  stop_agent(*agent);
  EXPECT_FALSE(registered("a1")) << "deregistered when stopped";
}

TEST_F(AgentTest, RegistersAgainWhenItsLeaseIsLost) {
  start_cluster(1);
  auto agent = start_agent("a1", {"--label", "role=db"});
  auto kv = client_->get(fleet::keys::agent("a1"));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  const std::int64_t first = (*kv)->lease;
  ASSERT_TRUE(client_->revoke_lease(first).ok());  // as if it had expired
  EXPECT_TRUE(wait_until(
      [&] {
        auto again = client_->get(fleet::keys::agent("a1"));
        return again.ok() && again->has_value() && (*again)->lease != first;
      },
      15s))
      << agent->output();
  stop_agent(*agent);
}

TEST_F(AgentTest, RevertsEverythingItHoldsWhenStopped) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-sigterm", 5s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  stop_agent(*agent);
  EXPECT_TRUE(testing::pid_gone(pid)) << "the target was resumed and stopped before the agent exited";
  EXPECT_TRUE(status_is("a1", "reverted", "agent stopped"));
  EXPECT_FALSE(registered("a1"));
}

TEST_F(AgentTest, SetsUpATargetPausesItAndResumesItOnCommand) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-inject", 5s);
  keep_run_alive();
  const int pid = setup("a1");
  ASSERT_GT(pid, 0);
  EXPECT_NE(process_state(pid), 'T');

  const fleet::Reply injected = inject("a1");
  ASSERT_TRUE(injected.ok) << injected.error;
  EXPECT_EQ(injected.kind, "process.paused");
  EXPECT_NE(injected.summary.find("sleeper"), std::string::npos) << injected.summary;
  EXPECT_TRUE(wait_until([&] { return paused(pid); }, 5s)) << "the target was not paused";
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "active", ""); }, 5s));

  fleet::Command revert;
  revert.op = fleet::Command::Op::revert;
  revert.fault_id = "f1";
  const fleet::Reply reverted = call("a1", revert);
  EXPECT_TRUE(reverted.ok) << reverted.error;
  EXPECT_TRUE(wait_until([&] { return !paused(pid); }, 5s)) << "the target was not resumed";
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "controller"); }, 5s));

  fleet::Command teardown;
  teardown.op = fleet::Command::Op::teardown;
  EXPECT_TRUE(call("a1", teardown).ok);
  EXPECT_TRUE(wait_until([&] { return testing::pid_gone(pid); }, 10s)) << "the target was not stopped";
  const auto types = event_types("a1");
  EXPECT_NE(std::find(types.begin(), types.end(), "target.started"), types.end()) << "placement events published";
  EXPECT_NE(std::find(types.begin(), types.end(), "placement.removed"), types.end());
  stop_agent(*agent);
}

// The experiment may name a registered agent's address (a probe of a target there): the agent
// loads it as the controller does, with the fleet's addresses on the allow-list. Nothing is sent
// to that address: the probe is only loaded.
TEST_F(AgentTest, LoadsAnExperimentNamingAnAgentsAddress) {
  start_cluster(1);
  auto agent = start_agent("a1");
  auto kv = client_->get(fleet::keys::agent("a1"));
  ASSERT_TRUE(kv.ok() && kv->has_value());
  auto info = fleet::agent_from_json((*kv)->value);
  ASSERT_TRUE(info.ok());
  std::string address;
  for (const auto& a : info->addresses) {
    if (a.find('.') != std::string::npos && !a.starts_with("127.")) address = a;
  }
  if (address.empty()) GTEST_SKIP() << "this host has no IPv4 address besides loopback";
  open_run("run-allow", 5s);
  keep_run_alive();
  fleet::Command c;
  c.op = fleet::Command::Op::setup;
  c.experiment_yaml = experiment_yaml() + R"(steady_state:
  probes:
    - name: health
      http: { url: "http://)" +
                      address + R"(:8080/health" }
)";
  c.source_path = "agent-allow.yaml";
  c.targets = {"sleeper"};
  const fleet::Reply r = call("a1", c);
  EXPECT_TRUE(r.ok) << r.error;
  stop_agent(*agent);
}

TEST_F(AgentTest, RevertsAFaultByItselfAfterItsMaximumDuration) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-expiry", 5s);
  keep_run_alive();
  const int pid = setup("a1");
  ASSERT_GT(pid, 0);
  const auto injected_at = Clock::now();
  ASSERT_TRUE(inject("a1", 1500).ok);
  EXPECT_TRUE(wait_until([&] { return paused(pid); }, 5s));
  EXPECT_TRUE(wait_until([&] { return !paused(pid); }, 15s)) << "not reverted after max_ms";
  std::printf("max duration 1.5s: resumed %.3fs after the inject\n", seconds_since(injected_at));
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "max duration"); }, 5s));
  EXPECT_TRUE(wait_until(
      [&] {
        const auto types = event_types("a1");
        return std::find(types.begin(), types.end(), "fault.expired") != types.end();
      },
      5s))
      << "no fault.expired event";
  stop_agent(*agent);
}

TEST_F(AgentTest, RevertsEverythingOfARunWhenItsLeaseIsRevoked) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-revoked", 5s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  keeper_.reset();
  const auto revoked_at = Clock::now();
  ASSERT_TRUE(client_->revoke_lease(lease_).ok());
  // Resumed, then stopped with the rest of the run's placement.
  EXPECT_TRUE(wait_until([&] { return testing::pid_gone(pid); }, 10s)) << agent->output();
  std::printf("lease revoked: target resumed and stopped %.3fs later\n", seconds_since(revoked_at));
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "run lease lost"); }, 5s));
  stop_agent(*agent);
}

TEST_F(AgentTest, RevertsWithinTheTtlWhenTheLeaseIsLeftToExpire) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-expired", 2s);
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  // The controller dies: its last keepalive is the last word on the lease.
  ASSERT_TRUE(client_->keep_alive(lease_).ok());
  const auto last_keepalive = Clock::now();
  EXPECT_TRUE(wait_until([&] { return !paused(pid); }, 15s)) << agent->output();
  const double after_expiry = seconds_since(last_keepalive) - 2.0;
  std::printf("lease left to expire (TTL 2s): reverted %.3fs after the lease's expiry (bar: 1s)\n", after_expiry);
  EXPECT_LT(after_expiry, 1.0 + 3.0) << "the bar is TTL + 1s; 3s of slack for a loaded machine";
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "run lease lost"); }, 5s));
  stop_agent(*agent);
}

TEST_F(AgentTest, RevertsWithinTheTtlWhenCutOffFromEtcd) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-cut-off", 2s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  const auto cut_at = Clock::now();
  for (std::size_t i = 0; i < cluster_->size(); ++i) cluster_->pause(i);
  const bool reverted = wait_until([&] { return !paused(pid); }, 15s);
  const double took = seconds_since(cut_at);
  for (std::size_t i = 0; i < cluster_->size(); ++i) cluster_->resume(i);
  EXPECT_TRUE(reverted) << agent->output();
  std::printf("every etcd member stopped (TTL 2s): reverted %.3fs later (bar: TTL + 1s = 3s)\n", took);
  EXPECT_LT(took, 3.0 + 3.0) << "the bar is TTL + 1s; 3s of slack for a loaded machine";
  // Its status is written once etcd is back.
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "run lease lost"); }, 20s)) << agent->output();
  stop_agent(*agent);
}

TEST_F(AgentTest, KeepsItsFaultsThroughALeaderFailoverTheLeaseSurvives) {
  start_cluster(3);
  auto agent = start_agent("a1");
  open_run("run-failover", 5s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  const int leader = cluster_->leader();
  ASSERT_GE(leader, 0);
  const auto killed_at = Clock::now();
  cluster_->kill(static_cast<std::size_t>(leader));
  ASSERT_GE(cluster_->leader(), 0) << "no new leader";
  std::printf("leader killed: a new one after %.3fs\n", seconds_since(killed_at));
  // Longer than the TTL and the agent's own bar: nothing may have been reverted.
  const auto until = killed_at + 5s + 2s;
  while (Clock::now() < until) {
    ASSERT_TRUE(paused(pid)) << "reverted during a failover the lease survived: " << agent->output();
    std::this_thread::sleep_for(100ms);  // the behaviour under test is that nothing happens meanwhile
  }
  EXPECT_TRUE(status_is("a1", "active", ""));
  fleet::Command revert;
  revert.op = fleet::Command::Op::revert;
  revert.fault_id = "f1";
  EXPECT_TRUE(call("a1", revert).ok);
  EXPECT_TRUE(wait_until([&] { return !paused(pid); }, 5s));
  stop_agent(*agent);
}

// A generator that holds no target of the run: its `load` brings the experiment (no setup), it
// writes its ready key, starts at the barrier's time and writes its seconds and its summary.
TEST_F(AgentTest, RunsALoadShardWithoutASetup) {
  start_cluster(1);
  const int port = testing::free_port();
  testing::Child tokens({testing::bin("demo-token-service"), "--port", std::to_string(port)});
  ASSERT_TRUE(wait_until([&] { return testing::http_request("GET", "127.0.0.1", port, "/health").status == 200; }))
      << tokens.output();
  auto agent = start_agent("gen1", {"--label", "role=loadgen"});
  open_run("run-load", 5s);
  keep_run_alive();
  fleet::Command load;
  load.op = fleet::Command::Op::load;
  load.experiment_yaml = R"(name: agent-load
phases:
  - name: peak
    duration: 2s
    load:
      name: shoppers
      url: http://127.0.0.1:${PORT}/health
      rate: 50/s
      connections: 2
      generators: 1
)";
  load.source_path = "agent-load.yaml";
  load.vars = {{"PORT", std::to_string(port)}};
  load.activity = "shoppers";
  load.phase = "peak";
  load.duration_ms = 2000;
  const fleet::Reply started = call("gen1", load);
  ASSERT_TRUE(started.ok) << started.error << agent->output();
  ASSERT_TRUE(wait_until(
      [&] {
        auto ready = client_->get(fleet::keys::load_ready(run_, "shoppers", "gen1"));
        return ready.ok() && ready->has_value();
      },
      10s));
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ASSERT_TRUE(
      client_->put(fleet::keys::load_go(run_, "shoppers"), fleet::to_json(fleet::StartAt{now_ms + 300}), lease_).ok());
  std::optional<fleet::ShardSummary> summary;
  EXPECT_TRUE(wait_until(
      [&] {
        auto kv = client_->get(fleet::keys::load_summary(run_, "shoppers", "gen1"));
        if (!kv.ok() || !kv->has_value()) return false;
        auto s = fleet::summary_from_json((*kv)->value);
        if (s.ok()) summary = *s;
        return s.ok();
      },
      20s))
      << agent->output();
  ASSERT_TRUE(summary.has_value());
  EXPECT_TRUE(summary->error.empty()) << summary->error;
  EXPECT_GT(summary->total.requests, 50u) << "about 100 requests in 2s at 50/s";
  stop_agent(*agent);
}

// etcd out of reach for less than the TTL: failed looks at the lease, and nothing reverted.
TEST_F(AgentTest, KeepsItsFaultsThroughALossOfEtcdShorterThanTheTtl) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-brief-loss", 10s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  const auto cut_at = Clock::now();
  cluster_->pause(0);
  while (Clock::now() < cut_at + 4500ms) {  // longer than a call's 2 x 1.5s: looks fail
    ASSERT_TRUE(paused(pid)) << "reverted after a loss shorter than the TTL: " << agent->output();
    std::this_thread::sleep_for(50ms);  // the behaviour under test is that nothing happens meanwhile
  }
  cluster_->resume(0);
  while (Clock::now() < cut_at + 10s + 1s) {
    ASSERT_TRUE(paused(pid)) << "reverted after a loss shorter than the TTL: " << agent->output();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(status_is("a1", "active", ""));
  stop_agent(*agent);
}

TEST_F(AgentTest, ARestartedAgentRevertsWhatItsLedgerHoldsOpen) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-restart", 5s);
  keep_run_alive();
  const int pid = setup_and_pause("a1");
  ASSERT_GT(pid, 0) << "set up, injected and paused";
  ::kill(agent->pid(), SIGKILL);  // the agent alone: its target stays, paused
  ASSERT_TRUE(agent->wait(10s).has_value());
  EXPECT_TRUE(paused(pid)) << "the kill -9 left the fault on";
  auto again = start_agent("a1");
  EXPECT_TRUE(wait_until([&] { return testing::pid_gone(pid) || !paused(pid); }, 10s)) << again->output();
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "reverted", "recovered"); }, 10s)) << again->output();
  stop_agent(*again);
}

// A revert that fails on the agent at teardown is the controller's to know: the reply names what is
// left, so the run says not restored (a kill by pid with no restart_command cannot be undone).
TEST_F(AgentTest, ATeardownWhoseRevertFailsSaysWhatIsLeft) {
  start_cluster(1);
  auto agent = start_agent("a1");
  open_run("run-left", 5s);
  keep_run_alive();
  testing::Child sleeper({"sleep", "600"});
  const std::string yaml = R"(name: agent-test
targets:
  sleeper:
    attach: { pid: )" + std::to_string(sleeper.pid()) +
                           R"( }
phases:
  - name: chaos
    duration: 60s
    faults:
      - kill: { target: sleeper }
)";
  ASSERT_EQ(setup("a1", yaml), sleeper.pid());
  ASSERT_TRUE(inject("a1").ok);
  ASSERT_TRUE(wait_until([&] { return process_state(sleeper.pid()) == 'Z'; }, 5s)) << "killed";
  fleet::Command teardown;
  teardown.op = fleet::Command::Op::teardown;
  const fleet::Reply reply = call("a1", teardown);
  EXPECT_FALSE(reply.ok) << "the sleeper cannot be brought back";
  EXPECT_NE(reply.error.find("left on this host"), std::string::npos) << reply.error;
  EXPECT_NE(reply.error.find("revert_failed"), std::string::npos) << reply.error;
  EXPECT_TRUE(wait_until([&] { return status_is("a1", "revert_failed", ""); }, 5s));
  stop_agent(*agent);
}

}  // namespace
}  // namespace chaosplus
