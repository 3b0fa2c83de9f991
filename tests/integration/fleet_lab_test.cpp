// The lab of hosts (scripts/lab.sh) and the fleet's bars on it (issue 15): network namespaces, an
// etcd cluster across them, agents in them, and a controller in node 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

#include <nlohmann/json.hpp>

#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/lab.h"
#include "support/support.h"

namespace chaosplus::testing {
namespace {

using namespace std::chrono_literals;

bool has_line_matching(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

std::string root_ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv);
  child.wait(10s);
  return child.output();
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An experiment that holds a pause on a process target on each of node-1..3 (`on:` each by name)
// for `hold`: the faults the controller's kill -9, a partition and a leader failover act on. Each
// target is a `sleep` with its own length, so the test finds it among the node's processes.
std::string hold_experiment(int seconds) {
  std::string yaml = "name: fleet-hold\ntargets:\n";
  for (int node = 1; node <= 3; ++node) {
    yaml += "  w" + std::to_string(node) + ":\n    on: { host: node-" + std::to_string(node) +
            " }\n    process: { command: [sleep, \"" + std::to_string(3600 + node) + "\"] }\n";
  }
  yaml +=
      "steady_state:\n  probes:\n    - name: alive\n      command: { run: [\"true\"] }\n      every: 500ms\n"
      "      tolerance: { success_rate: \">= 90%\", window: 5s }\n"
      "phases:\n  - name: hold\n    duration: " +
      std::to_string(seconds) + "s\n    faults:\n";
  for (int node = 1; node <= 3; ++node) yaml += "      - pause: { target: w" + std::to_string(node) + " }\n";
  return yaml;
}

// The hold experiment's target on `node`: its pid, 0 when it does not run.
pid_t hold_target(const Lab& lab, int node) {
  const std::string want = "sleep" + std::string(1, '\0') + std::to_string(3600 + node) + std::string(1, '\0');
  for (pid_t pid : lab.pids_in(node)) {
    if (read_file("/proc/" + std::to_string(pid) + "/cmdline") == want) return pid;
  }
  return 0;
}

struct Status {
  std::string run;
  std::string agent;
  std::string fault;
  std::string state;
  std::string why;
  std::int64_t at_unix_ms = 0;
};

// The agents' FaultStatus keys of every run (/chaosplus/status/<run>/<agent>/<fault>).
// Empty when etcd does not answer this time (an election under way): callers poll.
std::vector<Status> statuses(const Lab& lab) {
  std::vector<Status> out;
  std::map<std::string, std::string> kvs;
  try {
    kvs = lab.get_prefix("/chaosplus/status/");
  } catch (const std::runtime_error&) {
    return out;
  }
  for (const auto& [key, value] : kvs) {
    auto json = nlohmann::json::parse(value, nullptr, false);
    auto parts = std::filesystem::path(key);
    Status s{parts.parent_path().parent_path().filename().string(),
             parts.parent_path().filename().string(),
             parts.filename().string(),
             json.value("state", ""),
             json.value("why", ""),
             json.value("at_unix_ms", std::int64_t{0})};
    out.push_back(s);
  }
  return out;
}

int count_state(const std::vector<Status>& all, const std::string& state) {
  return static_cast<int>(std::count_if(all.begin(), all.end(), [&](const Status& s) { return s.state == state; }));
}

std::string describe(const std::vector<Status>& all) {
  std::string text;
  for (const auto& s : all) {
    text += s.agent + "/" + s.fault + ": " + s.state + " (" + s.why + ") at " + std::to_string(s.at_unix_ms) + "\n";
  }
  return text;
}

// The run lease's TTL, from the live key the controller wrote (RunInfo).
std::int64_t run_ttl_ms(const Lab& lab) {
  for (const auto& [key, value] : lab.get_prefix("/chaosplus/live/")) {
    auto json = nlohmann::json::parse(value, nullptr, false);
    if (json.is_object()) return json.value("ttl_ms", std::int64_t{0});
  }
  return 0;
}

// Every entry of the ledger in `state_dir` is reverted.
std::string open_ledger_entries(const std::string& state_dir) {
  auto ledger = runner::Ledger::open(runner::ledger_path(state_dir));
  if (!ledger.ok()) return "cannot open the ledger in " + state_dir + ": " + ledger.error();
  auto open = (*ledger)->open_entries();
  if (!open.ok()) return open.error();
  std::string text;
  for (const auto& e : *open) text += state_dir + ": " + e.kind + " " + e.record + "\n";
  return text;
}

// A controller (`chaosplus run`) in node 0 on the hold experiment, with its faults on in node-1..3.
class HeldFaults {
 public:
  // lease_ttl: the run lease's TTL (`run --lease-ttl`), "" for the default.
  HeldFaults(const Lab& lab, int seconds, const std::string& lease_ttl = "") : lab_(lab) {
    write_file(dir_.file("hold.yaml"), hold_experiment(seconds));
    std::vector<std::string> argv{bin("chaosplus"),   "run",        dir_.file("hold.yaml"), "--plain", "--state-dir",
                                  dir_.file("state"), "--runs-dir", dir_.file("runs")};
    if (!lease_ttl.empty()) argv.insert(argv.end(), {"--lease-ttl", lease_ttl});
    controller_ = std::make_unique<Child>(lab.in(0, argv), lab.env());
    on_ = wait_until([&] { return count_state(statuses(lab), "active") == 3 || !controller_->running(); }, 60s) &&
          count_state(statuses(lab), "active") == 3;
    if (!on_) return;
    ttl_ms_ = run_ttl_ms(lab);
    for (int node = 1; node <= 3; ++node) targets_.push_back(hold_target(lab, node));
  }

  // Why the faults are not on, for the test's message.
  std::string why_not() const {
    return "controller:\n" + controller_->output() + "\nstatuses:\n" + describe(statuses(lab_)) + "\n" +
           lab_.log_tails();
  }
  bool on() const { return on_; }
  Child& controller() { return *controller_; }
  std::int64_t ttl_ms() const { return ttl_ms_; }
  pid_t target(int node) const { return targets_.at(node - 1); }
  bool paused(int node) const { return process_state(target(node)) == 'T'; }
  std::string controller_state_dir() const { return dir_.file("state"); }

 private:
  const Lab& lab_;
  TempDir dir_;
  std::unique_ptr<Child> controller_;
  bool on_ = false;
  std::int64_t ttl_ms_ = 0;
  std::vector<pid_t> targets_;
};

TEST(FleetLab, EtcdAcrossNamespacesAndNothingOutside) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  std::vector<pid_t> etcd_pids;
  std::string state;
  {
    LabOptions options;
    options.nodes = 4;
    options.agents = false;
    Lab lab(options);
    state = lab.state_dir();
    EXPECT_EQ(lab.env().at("CHAOSPLUS_ETCD"), "http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379");
    EXPECT_EQ(lab.env().at("CHAOSPLUS_ALLOW"), "10.77.0.0/24");

    // The cluster answers the controller's host and an agent's host that runs no member.
    auto put = lab.etcdctl({"put", "/lab-test/key", "value"});
    ASSERT_EQ(put.code, 0) << put.output;
    auto get = lab.run(
        4, {"etcdctl", "--endpoints=" + lab.env().at("CHAOSPLUS_ETCD"), "get", "--print-value-only", "/lab-test/key"});
    ASSERT_EQ(get.code, 0) << get.output;
    EXPECT_TRUE(has_line_matching(get.output, "value")) << get.output;

    // The addresses live inside the namespaces only: the root namespace has none of them and no route
    // into the range; a node's only routes are the lab's subnet (no default route out).
    EXPECT_FALSE(has_line_matching(root_ip({"-4", "addr"}), "10.77.0.")) << root_ip({"-4", "addr"});
    EXPECT_FALSE(has_line_matching(root_ip({"-4", "route", "show", "table", "all"}), "10.77.0."));
    for (int node = 0; node <= 4; ++node) {
      auto routes = lab.run(node, {"ip", "-4", "route", "show"});
      EXPECT_EQ(routes.output, "10.77.0.0/24 dev eth0 proto kernel scope link src " + Lab::address(node) + " \n")
          << "node " << node;
      auto out = lab.run(node, {"ip", "route", "get", "192.0.2.1"});
      EXPECT_NE(out.code, 0) << "node " << node << " routes outside the lab: " << out.output;
    }

    for (int member = 1; member <= 3; ++member) {
      pid_t pid = lab.recorded_pid("etcd-" + std::to_string(member));
      ASSERT_GT(pid, 0) << member;
      etcd_pids.push_back(pid);
      auto in_node = lab.pids_in(member);
      EXPECT_NE(std::find(in_node.begin(), in_node.end(), pid), in_node.end()) << "etcd-" << member;
    }

    // A cut-off node's member is unreachable; the other two still make a quorum.
    lab.cut_off(3);
    auto cut = lab.run(0, {"etcdctl", "--endpoints=http://10.77.0.13:2379", "--dial-timeout=1s", "--command-timeout=1s",
                           "endpoint", "health"});
    EXPECT_NE(cut.code, 0) << cut.output;
    // (a request may first try the cut-off member, or wait for an election when it led)
    EXPECT_TRUE(wait_until([&] { return lab.etcdctl({"put", "/lab-test/key", "during-cut"}).code == 0; }, 20s));
    lab.reconnect(3);
    EXPECT_TRUE(wait_until(
        [&] {
          return lab.run(0, {"etcdctl", "--endpoints=http://10.77.0.13:2379", "--dial-timeout=1s", "get",
                             "--print-value-only", "/lab-test/key"})
                     .output.find("during-cut") != std::string::npos;
        },
        20s));

    // kill -9 of the leader: another member takes over.
    int old_leader = lab.kill_etcd_leader();
    EXPECT_TRUE(wait_until([&] { return lab.recorded_pid("etcd-" + std::to_string(old_leader)) == 0; }, 10s));
    int new_leader = 0;
    EXPECT_TRUE(wait_until(
        [&] {
          new_leader = lab.etcd_leader();
          return new_leader != 0;
        },
        20s));
    EXPECT_NE(new_leader, old_leader);
    EXPECT_TRUE(wait_until([&] { return lab.etcdctl({"put", "/lab-test/key", "after-failover"}).code == 0; }, 20s));
  }
  // Down: the recorded processes are gone, the namespaces and the state folder too.
  for (pid_t pid : etcd_pids) EXPECT_TRUE(pid_gone(pid)) << pid;
  auto namespaces = root_ip({"netns", "list"});
  EXPECT_FALSE(has_line_matching(namespaces, "cplt-")) << namespaces;
  EXPECT_FALSE(std::filesystem::exists(state));
}

// An agent in each node registers with its labels (the script's defaults, or the ones a test
// gives) and its node's address, which the controller's allow-list then takes.
TEST(FleetLab, AgentsRegisterWithTheirLabelsAndAddresses) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  LabOptions options;
  options.labels[3] = "role=web zone=b";
  Lab lab(options);
  auto agents = lab.get_prefix("/chaosplus/agents/");
  ASSERT_EQ(agents.size(), 3u) << lab.log_tails();
  const std::map<int, std::map<std::string, std::string>> want{{1, {{"role", "db"}, {"zone", "a"}}},
                                                               {2, {{"role", "db"}, {"zone", "b"}}},
                                                               {3, {{"role", "web"}, {"zone", "b"}}}};
  for (const auto& [node, labels] : want) {
    const std::string name = "node-" + std::to_string(node);
    auto info = nlohmann::json::parse(agents["/chaosplus/agents/" + name], nullptr, false);
    ASSERT_TRUE(info.is_object()) << name;
    EXPECT_EQ(info.value("name", ""), name);
    using Labels = std::map<std::string, std::string>;
    EXPECT_EQ(info["labels"].get<Labels>(), labels) << name;
    auto addresses = info["addresses"].get<std::vector<std::string>>();
    EXPECT_NE(std::find(addresses.begin(), addresses.end(), Lab::address(node)), addresses.end()) << info.dump();
    EXPECT_EQ(info.value("pid", 0), lab.recorded_pid("agent-" + std::to_string(node))) << name;
  }
}

// The bar: the quickstart-style experiment (experiments/fleet.yaml: the quickstart with its token
// service `on: {role: db}`) runs unchanged against a target on an agent in a namespace: the same
// verdict as the quickstart (the guardrail aborts when the token service dies), the token service and
// its fault proxy on node-1, reached by the shop in node 0 through node-1's address, and everything
// reverted after: the agents' ledgers and the controller's.
TEST(FleetLab, QuickstartRunsAgainstATargetOnAnAgent) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  Lab lab;
  TempDir dir;
  Child run(
      lab.in(0, {bin("chaosplus"), "run", source_path("experiments/fleet.yaml"), "--var", "DB_HOST=" + Lab::address(1),
                 "--plain", "--state-dir", dir.file("state"), "--runs-dir", dir.file("runs")}),
      lab.env());
  // The token service and its proxy came up on node-1, not anywhere else.
  EXPECT_TRUE(wait_until(
      [&] {
        auto ss = lab.run(1, {"ss", "-ltnH"});
        return ss.output.find(Lab::address(1) + ":18090") != std::string::npos &&
               ss.output.find("127.0.0.1:18091") != std::string::npos;
      },
      30s))
      << run.output() << lab.log_tails();
  EXPECT_EQ(lab.run(0, {"ss", "-ltnH", "sport = :18090"}).output, "");
  auto code = run.wait(120s);
  ASSERT_TRUE(code.has_value()) << run.output() << lab.log_tails();
  EXPECT_EQ(*code, 2) << run.output();
  EXPECT_NE(run.output().find("checkout-collapsing"), std::string::npos) << run.output();

  // The journal: the latency and the kill were injected and reverted on node-1's agent.
  std::string journal;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("runs"))) {
    if (entry.path().extension() == ".jsonl") journal = entry.path().string();
  }
  ASSERT_FALSE(journal.empty()) << run.output();
  int injected = 0, reverted = 0;
  for (const auto& line : read_lines(journal)) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) continue;
    const std::string type = event.value("type", "");
    if (type == "fault.injected") ++injected;
    if (type == "fault.reverted") ++reverted;
  }
  EXPECT_EQ(injected, 2) << read_file(journal);
  EXPECT_EQ(reverted, 2) << read_file(journal);
  // The report of the journal says what the run said (issue 10), as for a local run.
  Child report({bin("chaosplus"), "report", journal});
  EXPECT_EQ(report.wait(30s), 2) << report.output();
  EXPECT_EQ(printed_summary(report.output()), printed_summary(run.output()));

  for (int node = 1; node <= 3; ++node)
    EXPECT_EQ(open_ledger_entries(lab.state_dir() + "/agent-" + std::to_string(node)), "");
  EXPECT_EQ(open_ledger_entries(dir.file("state")), "");
  // The agent stopped the token service it started, and its proxy.
  EXPECT_TRUE(wait_until(
      [&] {
        return lab.run(1, {"ss", "-ltnH"}).output.find(":1809") == std::string::npos;
      },
      15s))
      << lab.run(1, {"ss", "-ltnp"}).output;
}

// The bar: kill -9 of the controller with faults on 3 agents; every agent reverts on its own (the run
// lease expires) within the lease's TTL + 1 s of the kill, by the agents' own clocks (FaultStatus).
TEST(FleetLab, KilledControllerFaultsRevertedByTheAgentsWithinTheLeaseTtl) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  Lab lab;
  HeldFaults held(lab, 60);
  ASSERT_TRUE(held.on()) << held.why_not();
  ASSERT_GT(held.ttl_ms(), 0);
  for (int node = 1; node <= 3; ++node) ASSERT_TRUE(held.paused(node)) << "node-" << node << "\n" << held.why_not();

  const std::int64_t killed = unix_ms();
  held.controller().signal(SIGKILL);
  std::vector<Status> now;
  ASSERT_TRUE(wait_until(
      [&] {
        now = statuses(lab);
        return count_state(now, "reverted") == 3;
      },
      std::chrono::milliseconds(held.ttl_ms() + 15000)))
      << describe(now) << lab.log_tails();
  std::int64_t last = 0;
  for (const auto& s : now) {
    EXPECT_EQ(s.why, "run lease lost") << describe(now);
    last = std::max(last, s.at_unix_ms);
  }
  EXPECT_LE(last - killed, held.ttl_ms() + 1000) << "kill -9 -> last revert; " << describe(now);
  std::printf("[ figures ] kill -9 -> all 3 reverted: %lld ms (ttl %lld ms)\n", static_cast<long long>(last - killed),
              static_cast<long long>(held.ttl_ms()));
  for (int node = 1; node <= 3; ++node) {
    EXPECT_FALSE(held.paused(node)) << "node-" << node << " still stopped";
    EXPECT_EQ(open_ledger_entries(lab.state_dir() + "/agent-" + std::to_string(node)), "");
  }
}

// The bar: an agent cut off from etcd (node-2, which also holds the etcd member e2, now a minority
// of one) reverts on its own within the TTL + 1 s of the cut, while the controller, which still
// reaches the majority, keeps the run lease alive; the other agents keep their faults.
TEST(FleetLab, PartitionedAgentRevertsOnItsOwnWithinTheLeaseTtl) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  Lab lab;
  HeldFaults held(lab, 60);
  ASSERT_TRUE(held.on()) << held.why_not();
  ASSERT_GT(held.ttl_ms(), 0);
  for (int node = 1; node <= 3; ++node) ASSERT_TRUE(held.paused(node)) << "node-" << node;

  const auto cut = std::chrono::steady_clock::now();
  lab.cut_off(2);
  // Seen from outside the node (its process's state), as nothing it writes reaches etcd now.
  ASSERT_TRUE(wait_until([&] { return !held.paused(2); }, std::chrono::milliseconds(held.ttl_ms() + 15000)))
      << lab.log_tails();
  const auto reverted_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut).count();
  EXPECT_LE(reverted_ms, held.ttl_ms() + 1000) << "cut -> node-2's fault reverted";
  std::printf("[ figures ] partition -> node-2 reverted: %lld ms (ttl %lld ms)\n", static_cast<long long>(reverted_ms),
              static_cast<long long>(held.ttl_ms()));
  EXPECT_TRUE(held.paused(1));
  EXPECT_TRUE(held.paused(3));
  EXPECT_TRUE(held.controller().running()) << held.controller().output();

  // Back on the network, the agent reports what it did; the controller ends the run and everything
  // else is reverted too.
  lab.reconnect(2);
  std::vector<Status> now;
  EXPECT_TRUE(wait_until(
      [&] {
        now = statuses(lab);
        return std::any_of(now.begin(), now.end(),
                           [](const Status& s) { return s.agent == "node-2" && s.state == "reverted"; });
      },
      30s))
      << describe(now) << lab.log_tails();
  held.controller().signal(SIGTERM);
  // Halted (2), not "not restored" (4): node-2 answers the controller's revert of the fault it
  // already reverted by itself (it failed on a race before: the revert went unanswered for 30 s).
  EXPECT_EQ(held.controller().wait(60s), 2) << held.controller().output();
  for (int node = 1; node <= 3; ++node) {
    EXPECT_FALSE(held.paused(node)) << "node-" << node;
    EXPECT_TRUE(wait_until(
        [&] { return open_ledger_entries(lab.state_dir() + "/agent-" + std::to_string(node)).empty(); }, 30s))
        << open_ledger_entries(lab.state_dir() + "/agent-" + std::to_string(node));
  }
  EXPECT_EQ(open_ledger_entries(held.controller_state_dir()), "");
}

// The bar: kill -9 of the etcd leader while faults are on; the run lease survives the failover, so
// no agent reverts anything before its time: the faults stay on through the failover and the run
// completes as planned (the hypothesis held), then everything is reverted.
TEST(FleetLab, EtcdLeaderFailoverTheLeaseSurvivesNoRevert) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  Lab lab;
  const int hold_s = 20;
  HeldFaults held(lab, hold_s);
  ASSERT_TRUE(held.on()) << held.why_not();
  const auto on = std::chrono::steady_clock::now();
  for (int node = 1; node <= 3; ++node) ASSERT_TRUE(held.paused(node)) << "node-" << node;

  const int leader = lab.kill_etcd_leader();
  int new_leader = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        new_leader = lab.etcd_leader();
        return new_leader != 0;
      },
      20s));
  EXPECT_NE(new_leader, leader);
  // Through the failover and a full TTL + 1 s after it, every fault stays on (checked on every poll).
  const auto watch_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(held.ttl_ms() + 1000);
  std::string broke;
  wait_until(
      [&] {
        for (int node = 1; node <= 3; ++node) {
          if (!held.paused(node)) broke = "node-" + std::to_string(node) + "'s fault was reverted during the failover";
        }
        return !broke.empty() || std::chrono::steady_clock::now() >= watch_until;
      },
      std::chrono::milliseconds(held.ttl_ms() + 5000));
  EXPECT_EQ(broke, "") << describe(statuses(lab)) << lab.log_tails();
  EXPECT_LT(std::chrono::steady_clock::now() - on, std::chrono::seconds(hold_s)) << "the check outlasted the phase";
  for (const auto& s : statuses(lab)) EXPECT_EQ(s.state, "active") << describe(statuses(lab));

  auto code = held.controller().wait(std::chrono::seconds(hold_s + 60));
  EXPECT_EQ(code, 0) << held.controller().output();
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(open_ledger_entries(lab.state_dir() + "/agent-" + std::to_string(node)), "");
    EXPECT_FALSE(held.paused(node));
  }
  EXPECT_EQ(open_ledger_entries(held.controller_state_dir()), "");
}

// bench/fleet_kill.sh: ROUNDS (CHAOSPLUS_FLEET_ROUNDS, 100) kill -9 of the controller at a random
// moment (uniform over 0-3 s, CHAOSPLUS_FLEET_SEED) after its faults are on on 3 agents, in one lab;
// per round the time from the kill to the last agent's revert (the agents' FaultStatus), then
// min/median/p95/max and how many exceeded the TTL + 1 s.
TEST(FleetLab, DISABLED_KillRounds) {
  if (auto missing = missing_for_lab(); !missing.empty()) GTEST_SKIP() << "needs" << missing;
  const char* rounds_env = std::getenv("CHAOSPLUS_FLEET_ROUNDS");
  const char* seed_env = std::getenv("CHAOSPLUS_FLEET_SEED");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 100;
  const std::uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 1;
  const char* ttl_env = std::getenv("CHAOSPLUS_FLEET_TTL");
  const std::string lease_ttl = ttl_env ? ttl_env : "";  // "" (unset or empty): the controller's default
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> delay_ms(0, 3000);
  // A lab of its own (prefix cplbench), so the benchmark and the CI tests (cplt) never take each
  // other's down.
  LabOptions options;
  options.prefix = "cplbench";
  Lab lab(options);
  std::printf("[ seed ] %llu, %d rounds\n", static_cast<unsigned long long>(seed), rounds);
  std::vector<std::int64_t> took;
  int exceeded = 0, failed = 0;
  std::int64_t ttl = 0;
  for (int round = 1; round <= rounds; ++round) {
    ASSERT_EQ(lab.etcdctl({"del", "--prefix", "/chaosplus/status/"}).code, 0);
    HeldFaults held(lab, 120, lease_ttl);
    if (!held.on()) {
      std::printf("[ round %d ] the faults did not come on:\n%s\n", round, held.why_not().c_str());
      ++failed;
      continue;
    }
    ttl = held.ttl_ms();
    const int delay = delay_ms(random);
    ::poll(nullptr, 0, delay);  // the random moment of the kill is what the benchmark varies
    const std::int64_t killed = unix_ms();
    held.controller().signal(SIGKILL);
    std::vector<Status> now;
    bool all = wait_until(
        [&] {
          now = statuses(lab);
          return count_state(now, "reverted") == 3;
        },
        std::chrono::milliseconds(ttl + 15000));
    std::int64_t last = 0;
    for (const auto& s : now) last = std::max(last, s.at_unix_ms);
    bool effects_gone = true;
    for (int node = 1; node <= 3; ++node) effects_gone = effects_gone && !held.paused(node);
    if (!all || !effects_gone) {
      std::printf("[ round %d ] delay %d ms: NOT all reverted (effects gone: %s)\n%s", round, delay,
                  effects_gone ? "yes" : "no", describe(now).c_str());
      ++failed;
      continue;
    }
    const std::int64_t ms = last - killed;
    const bool over = ms > ttl + 1000;
    exceeded += over ? 1 : 0;
    took.push_back(ms);
    std::printf("[ round %d ] delay %d ms: kill -9 -> all 3 reverted %lld ms (ttl %lld ms)%s\n", round, delay,
                static_cast<long long>(ms), static_cast<long long>(ttl), over ? " EXCEEDED ttl + 1 s" : "");
    std::fflush(stdout);
  }
  std::sort(took.begin(), took.end());
  auto at = [&](double q) {
    return took.empty()
               ? 0LL
               : static_cast<long long>(took[std::min(took.size() - 1, static_cast<std::size_t>(q * took.size()))]);
  };
  std::printf(
      "[ summary  ]\nkill -9 -> all reverted over %zu rounds (ttl %lld ms): min %lld ms, median %lld ms, p95 %lld ms, "
      "max %lld ms\n%d rounds exceeded ttl + 1 s, %d rounds failed\n",
      took.size(), static_cast<long long>(ttl), took.empty() ? 0LL : static_cast<long long>(took.front()), at(0.5),
      at(0.95), took.empty() ? 0LL : static_cast<long long>(took.back()), exceeded, failed);
  EXPECT_EQ(exceeded, 0);
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace chaosplus::testing
