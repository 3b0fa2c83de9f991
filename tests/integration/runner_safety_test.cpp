// Every way a run can end puts the system back: success, deviation, guardrail abort, Ctrl-C,
// SIGTERM, `chaosplus halt` from another process, and kill -9 followed by `chaosplus recover` (or
// by the next run). Real processes throughout: the chaosplus binary, its fault proxy, the demo
// token service, and a process the experiment attaches to and pauses. Each test runs twice: with
// those faults, and with a kernel-level fault (an nftables `reject` of a loopback port) as well,
// after which the host's rule set must read byte for byte as before (that variant needs root and
// nft, and fails without them, as kernel_faults_test.cpp).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/journal.h"
#include "support/kernel.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TempDir;

struct Scenario {
  bool kernel;  // also a kernel fault: reject on the loopback port of `spare`
  std::unique_ptr<testing::KernelTurn> turn;
  std::string ruleset_before;
  TempDir dir;
  int tokens_port = testing::free_port();
  int proxy_port = testing::free_port();
  std::string state_dir = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::unique_ptr<Child> sleeper;  // the attached process the experiment pauses
  testing::Listener spare;         // the port the kernel fault rejects
  std::vector<pid_t> runs;         // pids of the runs started

  explicit Scenario(bool with_kernel_fault) : kernel(with_kernel_fault) {
    if (kernel) {
      turn = std::make_unique<testing::KernelTurn>();
      EXPECT_TRUE(turn->held()) << "another kernel fault test held the lock for 5 minutes";
      ruleset_before = testing::nft_ruleset();
    }
    sleeper = std::make_unique<Child>(std::vector<std::string>{"sleep", "600"});
  }

  int fault_count() const { return kernel ? 3 : 2; }

  // An experiment with a paused attached process and a latency toxic on the token service's proxy,
  // both from the start of a phase of `phase` length.
  std::string write_experiment(const std::string& phase, const std::string& extra_phase_faults = "",
                               const std::string& guardrails = "", const std::string& expect = "{ status: [200] }") {
    std::string yaml = R"(name: safety
targets:
  spare:
    endpoint: "127.0.0.1:)" +
                       std::to_string(spare.port()) + R"("
  sleeper:
    attach: { pid: )" + std::to_string(sleeper->pid()) +
                       R"( }
  tokens:
    process:
      command: [demo-token-service, --port, ")" +
                       std::to_string(tokens_port) + R"("]
      ready: { http: "http://127.0.0.1:)" +
                       std::to_string(tokens_port) + R"(/health", timeout: 10s }
    proxy: { listen: "127.0.0.1:)" +
                       std::to_string(proxy_port) + R"(", upstream: "127.0.0.1:)" + std::to_string(tokens_port) + R"(" }
steady_state:
  probes:
    - name: tokens-health
      http: { url: "http://127.0.0.1:)" +
                       std::to_string(proxy_port) + R"(/health", timeout: 1s }
      expect: )" + expect +
                       R"(
      every: 100ms
      tolerance: { success_rate: ">= 90%" }
)" + guardrails + R"(
phases:
  - name: chaos
    duration: )" + phase +
                       R"(
    faults:
      - pause: { target: sleeper }
      - latency: { target: tokens, latency: 20ms }
)" + (kernel ? "      - reject: { target: spare }\n" : "") +
                       extra_phase_faults;
    std::string path = dir.file("experiment.yaml");
    testing::write_file(path, yaml);
    return path;
  }

  std::unique_ptr<Child> start_run(const std::string& experiment) {
    auto run = std::make_unique<Child>(std::vector<std::string>{testing::bin("chaosplus"), "run", experiment, "--plain",
                                                                "--state-dir", state_dir, "--journal", journal});
    runs.push_back(run->pid());
    return run;
  }

  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(journal)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }

  int count(const std::string& type) const {
    int n = 0;
    for (const auto& e : events()) n += e.value("type", "") == type ? 1 : 0;
    return n;
  }

  bool all_faults_active() const { return count("fault.injected") >= fault_count(); }

  // The kernel fault's table of the first run, while it is on.
  bool kernel_fault_on() const { return !testing::fault_tables_of(runs.front()).empty(); }

  bool port_open(int port) const {
    return testing::http_request("GET", "127.0.0.1", port, "/health", "", 1s).status != 0;
  }

  // The original state: the attached process runs, no proxy listens, the token service is gone.
  void expect_everything_back() {
    EXPECT_TRUE(testing::wait_until([&] { return testing::process_state(sleeper->pid()) != 'T'; }, 5s))
        << "the paused process was not resumed";
    EXPECT_TRUE(sleeper->running());
    EXPECT_TRUE(testing::wait_until([&] { return !port_open(proxy_port); }, 5s)) << "the fault proxy is still there";
    EXPECT_TRUE(testing::wait_until([&] { return !port_open(tokens_port); }, 5s))
        << "the token service the run started is still there";
    if (!kernel) return;
    for (pid_t pid : runs) {
      EXPECT_EQ(testing::fault_tables_of(pid), std::vector<std::string>{}) << "run " << pid;
    }
    EXPECT_EQ(testing::nft_ruleset(), ruleset_before) << "the rule set is not as it was";
  }

  std::string chaosplus(const std::vector<std::string>& args, int* code = nullptr) {
    std::vector<std::string> argv{testing::bin("chaosplus")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--state-dir");
    argv.push_back(state_dir);
    Child c(argv);
    auto rc = c.wait(60s);
    if (code != nullptr) *code = rc.value_or(-1);
    return c.output();
  }
};

class RunnerSafety : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!GetParam()) return;
    if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
    const std::string missing = testing::missing_for_kernel_faults();
    ASSERT_TRUE(missing.empty()) << "the kernel variant needs root and the nft, tc and ip tools (scripts/setup.sh "
                                    "installs nftables and iproute2); missing:"
                                 << missing;
  }
};

TEST_P(RunnerSafety, ASuccessfulRunRevertsEverythingAndHolds) {
  Scenario s(GetParam());
  auto run = s.start_run(s.write_experiment("1500ms"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << run->output();
  EXPECT_EQ(s.count("fault.injected"), s.fault_count());
  EXPECT_EQ(s.count("fault.reverted"), s.fault_count());
  s.expect_everything_back();
  EXPECT_NE(run->output().find("HELD"), std::string::npos) << run->output();
}

TEST_P(RunnerSafety, ADeviatingRunRevertsEverythingAndExitsOne) {
  Scenario s(GetParam());
  // The black hole makes the probe through the proxy fail for most of the phase.
  auto run = s.start_run(s.write_experiment("2s", "      - blackhole: { target: tokens, at: 500ms }\n"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << run->output();
  EXPECT_EQ(s.count("fault.reverted"), s.fault_count() + 1);
  s.expect_everything_back();
}

TEST_P(RunnerSafety, AGuardrailAbortsRevertsAndExitsTwo) {
  Scenario s(GetParam());
  auto run = s.start_run(
      s.write_experiment("30s", "      - blackhole: { target: tokens, at: 300ms }\n",
                         "guardrails:\n  - when: { probe: tokens-health, success_rate: \"< 50%\", over: 1s }\n"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  EXPECT_EQ(s.count("guardrail.tripped"), 1);
  EXPECT_EQ(s.count("fault.reverted"), s.fault_count() + 1);
  s.expect_everything_back();
}

void stop_by_signal(bool kernel, int sig) {
  Scenario s(kernel);
  auto run = s.start_run(s.write_experiment("60s"));
  ASSERT_TRUE(testing::wait_until([&] { return s.all_faults_active(); }, 30s)) << run->output();
  EXPECT_EQ(testing::process_state(s.sleeper->pid()), 'T');
  if (s.kernel) {
    EXPECT_TRUE(s.kernel_fault_on());
  }
  // The run's proxy API takes changes from this run only: without its token, 401.
  const std::string proxy_log = testing::read_file(s.dir.file("journal.logs/fault-proxy.log"));
  const std::string marker = "chaosplus proxy API listening on 127.0.0.1:";
  const auto at = proxy_log.find(marker);
  ASSERT_NE(at, std::string::npos) << proxy_log;
  const int api_port = std::stoi(proxy_log.substr(at + marker.size()));
  EXPECT_EQ(testing::http_request("DELETE", "127.0.0.1", api_port, "/proxies/tokens").status, 401);
  EXPECT_EQ(testing::http_request("POST", "127.0.0.1", api_port, "/reset").status, 401);
  run->signal(sig);
  auto code = run->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  EXPECT_EQ(s.count("fault.reverted"), s.fault_count());
  s.expect_everything_back();
}

TEST_P(RunnerSafety, CtrlCRevertsEverythingAndExitsTwo) { stop_by_signal(GetParam(), SIGINT); }

TEST_P(RunnerSafety, SigtermRevertsEverythingAndExitsTwo) { stop_by_signal(GetParam(), SIGTERM); }

TEST_P(RunnerSafety, HaltFromAnotherProcessRevertsEverything) {
  Scenario s(GetParam());
  auto run = s.start_run(s.write_experiment("60s"));
  ASSERT_TRUE(testing::wait_until([&] { return s.all_faults_active(); }, 30s)) << run->output();
  int halt_code = -1;
  std::string halt_output = s.chaosplus({"halt"}, &halt_code);
  EXPECT_EQ(halt_code, 0) << halt_output;
  EXPECT_NE(halt_output.find("all faults reverted"), std::string::npos) << halt_output;
  std::cout << "[ measured ] " << halt_output;
  auto code = run->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  s.expect_everything_back();
}

TEST_P(RunnerSafety, RecoverAfterKillNineResumesThePausedProcessAndRemovesTheProxy) {
  Scenario s(GetParam());
  auto run = s.start_run(s.write_experiment("60s"));
  ASSERT_TRUE(testing::wait_until([&] { return s.all_faults_active(); }, 30s)) << run->output();
  run->signal(SIGKILL);
  ASSERT_TRUE(run->wait(10s).has_value());
  // Nothing reverted itself: the process is still paused, the proxy still listens, the table is there.
  EXPECT_EQ(testing::process_state(s.sleeper->pid()), 'T');
  EXPECT_TRUE(s.port_open(s.proxy_port));
  if (s.kernel) {
    EXPECT_TRUE(s.kernel_fault_on());
  }
  int code = -1;
  std::string out = s.chaosplus({"recover"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("1 crashed run(s)"), std::string::npos) << out;
  s.expect_everything_back();
  // A second recover has nothing left to do.
  out = s.chaosplus({"recover"}, &code);
  EXPECT_NE(out.find("0 crashed run(s), 0 change(s) reverted"), std::string::npos) << out;
}

TEST_P(RunnerSafety, TheNextRunRecoversWhatAKilledRunLeft) {
  Scenario s(GetParam());
  const std::string experiment = s.write_experiment("60s");
  auto run = s.start_run(experiment);
  ASSERT_TRUE(testing::wait_until([&] { return s.all_faults_active(); }, 30s)) << run->output();
  run->signal(SIGKILL);
  ASSERT_TRUE(run->wait(10s).has_value());
  EXPECT_EQ(testing::process_state(s.sleeper->pid()), 'T');
  if (s.kernel) {
    EXPECT_TRUE(s.kernel_fault_on());
  }
  // The next run starts by recovering; then it runs its own (short) experiment to the end.
  const std::string short_experiment = s.dir.file("short.yaml");
  std::string yaml = testing::read_file(experiment);
  yaml.replace(yaml.find("duration: 60s"), 13, "duration: 1s");
  testing::write_file(short_experiment, yaml);
  s.journal = s.dir.file("second.jsonl");  // a journal file is never reused
  auto second = s.start_run(short_experiment);
  auto code = second->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << second->output();
  EXPECT_EQ(s.count("recovery.done"), 1) << second->output();
  s.expect_everything_back();
}

// ---- Crash windows: each test reproduces one gap found by a hostile test of the runner (issue 8). ----

// A run of `chaosplus run` with its state, journal and helpers for what it left.
struct CrashRun {
  TempDir dir;
  std::string state_dir = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::unique_ptr<Child> run;

  void start(const std::string& yaml, const std::map<std::string, std::string>& env = {},
             const std::string& journal_path = {}) {
    testing::write_file(dir.file("e.yaml"), yaml);
    run = std::make_unique<Child>(
        std::vector<std::string>{testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir",
                                 state_dir, "--journal", journal_path.empty() ? journal : journal_path},
        env);
  }

  std::vector<nlohmann::json> events(const std::string& path = {}) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(path.empty() ? journal : path)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  }
  std::vector<nlohmann::json> of_type(const std::string& type, const std::string& path = {}) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events(path)) {
      if (e.value("type", "") == type) out.push_back(e);
    }
    return out;
  }

  // The pid the test hook names once the runner has released that child.
  int hooked_pid(const std::string& program) {
    const std::string marker = "chaosplus test hook: " + program + " pid ";
    int pid = 0;
    testing::wait_until(
        [&] {
          const std::string out = run->output();
          const auto at = out.find(marker);
          if (at != std::string::npos) pid = std::atoi(out.c_str() + at + marker.size());
          return pid > 0;
        },
        30s);
    return pid;
  }

  void kill_runner() {
    run->signal(SIGKILL);
    ASSERT_TRUE(run->wait(10s).has_value());
  }

  std::string recover(int* code) {
    Child c({testing::bin("chaosplus"), "recover", "--state-dir", state_dir});
    *code = c.wait(120s).value_or(-1);
    return c.output();
  }

  // Every ledger entry of the killed run, as recover left it.
  std::vector<runner::LedgerEntry> ledger_entries() {
    auto ledger = runner::Ledger::open(runner::ledger_path(state_dir));
    EXPECT_TRUE(ledger.ok()) << ledger.error();
    if (!ledger.ok()) return {};
    auto runs = of_type("run.started");
    if (runs.empty()) return {};
    auto entries = (*ledger)->entries(runs.front().value("run_id", ""));
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : std::vector<runner::LedgerEntry>{};
  }
};

// Finding 1: the runner dies while its nft is still starting; before, recover found no table yet,
// marked the entry reverted, and the orphaned nft then added the table.
TEST(CrashWindows, AnNftStillStartingWhenTheRunnerDiesLeavesNoTableBehindRecover) {
  if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
  const std::string missing = testing::missing_for_kernel_faults();
  ASSERT_TRUE(missing.empty()) << "needs root and nft; missing:" << missing;
  testing::KernelTurn turn;
  ASSERT_TRUE(turn.held());
  const std::string before = testing::nft_ruleset();
  testing::Listener spare;
  CrashRun c;
  c.start("name: stalled-nft\ntargets:\n  spare: { endpoint: \"127.0.0.1:" + std::to_string(spare.port()) +
              "\" }\nphases:\n  - name: p\n    duration: 60s\n    faults:\n      - reject: { target: spare }\n",
          {{"CHAOSPLUS_TEST_STALL_AFTER", "nft-spawn"}});
  const int nft = c.hooked_pid("nft");
  ASSERT_GT(nft, 0) << c.run->output();
  const pid_t runner_pid = c.run->pid();
  c.kill_runner();
  int code = -1;
  const std::string out = c.recover(&code);
  EXPECT_EQ(code, 0) << out;
  // Had the nft lived on, it would have added its table by the time it is gone.
  ASSERT_TRUE(testing::wait_until([&] { return testing::pid_gone(nft); }, 10s)) << "the nft child still runs";
  EXPECT_EQ(testing::fault_tables_of(runner_pid), std::vector<std::string>{}) << out;
  EXPECT_EQ(testing::nft_ruleset(), before);
  const auto entries = c.ledger_entries();
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    EXPECT_EQ(e.state, runner::EntryState::reverted) << e.kind << " " << e.record << " " << e.error;
    if (e.kind == "kernel.nft_table") {
      EXPECT_NE(e.record.find("\"tool_pid\":" + std::to_string(nft)), std::string::npos)
          << "the nft was not in the ledger before it ran: " << e.record;
    }
  }
}

// Finding 2: a started target was recorded only after it started; a runner killed in between left
// it running (in its own session) and recover reported nothing failed.
TEST(CrashWindows, ATargetReleasedJustBeforeTheRunnerDiesIsInTheLedgerAndStoppedByRecover) {
  const int port = testing::free_port();
  CrashRun c;
  c.start("name: stalled-target\ntargets:\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" +
              std::to_string(port) + "\"]\n      ready: { http: \"http://127.0.0.1:" + std::to_string(port) +
              "/health\", timeout: 20s }\nphases:\n  - name: p\n    duration: 60s\n",
          {{"CHAOSPLUS_TEST_STALL_AFTER", "demo-token-service-spawn"}});
  const int target = c.hooked_pid("demo-token-service");
  ASSERT_GT(target, 0) << c.run->output();
  c.kill_runner();
  int code = -1;
  const std::string out = c.recover(&code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("reverted process.started"), std::string::npos) << out;
  EXPECT_TRUE(testing::wait_until([&] { return testing::pid_gone(target); }, 10s)) << "the target was left running";
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", port, "/health", "", 1s).status, 0) << "its port is held";
  for (const auto& e : c.ledger_entries()) {
    EXPECT_EQ(e.state, runner::EntryState::reverted) << e.kind << " " << e.record;
    if (e.kind == "process.started") {
      EXPECT_NE(e.record.find("\"pid\":" + std::to_string(target)), std::string::npos) << e.record;
    }
  }
}

// Finding 3: rollbacks were not in the ledger: after kill -9 the remaining ones never ran, and one
// already running was left as an orphan.
TEST(CrashWindows, RollbacksCutShortByKillNineAreFinishedByRecover) {
  CrashRun c;
  Child sleeper({"sleep", "600"});
  const std::string once = c.dir.file("once");
  const std::string orphan = c.dir.file("orphan.pid");
  const std::string second = c.dir.file("second");
  c.start("name: rollbacks\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
          " } }\nphases:\n  - name: p\n    duration: 200ms\n    faults:\n      - pause: { target: sleeper }\n"
          "rollbacks:\n"
          "  - name: slow\n    command: { run: [sh, -c, \"if [ -e " +
          once + " ]; then exit 0; fi; touch " + once + "; sleep 600 & echo $! > " + orphan +
          "; wait\"], timeout: 120s }\n"
          "  - name: second\n    command: { run: [sh, -c, \"echo ran >> " +
          second + "\"] }\n");
  const int child = testing::read_pid_file(orphan);
  ASSERT_GT(child, 0) << c.run->output();
  c.kill_runner();
  EXPECT_FALSE(std::filesystem::exists(second));
  int code = -1;
  const std::string out = c.recover(&code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("reverted rollback"), std::string::npos) << out;
  EXPECT_TRUE(testing::wait_until([&] { return testing::pid_gone(child); }, 5s))
      << "what the cut-short rollback started is still running: " << out;
  EXPECT_EQ(testing::read_file(second), "ran\n") << "the remaining rollback did not run exactly once";
  EXPECT_NE(testing::process_state(sleeper.pid()), 'T');
  for (const auto& e : c.ledger_entries())
    EXPECT_EQ(e.state, runner::EntryState::reverted) << e.kind << " " << e.record;
}

// Recover undoes a crashed run as the run would have: faults first, then rollbacks in the
// experiment's order, then the processes it started. The rollback sees the paused process resumed
// and the started one alive.
TEST(CrashWindows, RecoverRevertsFaultsThenRunsRollbacksThenStopsStartedProcesses) {
  CrashRun c;
  Child sleeper({"sleep", "600"});
  const std::string pidfile = c.dir.file("helper.pid");
  const std::string seen = c.dir.file("seen");
  c.start("name: order\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
          " } }\n  helper:\n    process: { command: [sh, -c, \"echo $$ > " + pidfile +
          "; exec sleep 600\"] }\nphases:\n  - name: p\n    duration: 60s\n    faults:\n"
          "      - pause: { target: sleeper }\nrollbacks:\n"
          "  - name: look\n    command: { run: [sh, -c, \"cut -d' ' -f3 /proc/" +
          std::to_string(sleeper.pid()) + "/stat > " + seen + "; kill -0 $(cat " + pidfile +
          ") && echo helper-alive >> " + seen +
          "\"] }\n"
          "  - name: next\n    command: { run: [sh, -c, \"echo next >> " +
          seen + "\"] }\n");
  ASSERT_TRUE(testing::wait_until([&] { return !c.of_type("fault.injected").empty(); }, 30s)) << c.run->output();
  const int helper = testing::read_pid_file(pidfile);
  c.kill_runner();
  ASSERT_EQ(testing::process_state(sleeper.pid()), 'T');
  int code = -1;
  const std::string out = c.recover(&code);
  EXPECT_EQ(code, 0) << out;
  const std::string state = testing::read_file(seen);
  EXPECT_NE(state.substr(0, 1), "T") << "the rollback ran before the pause was reverted: " << state;
  EXPECT_NE(state.find("helper-alive"), std::string::npos) << "the started process was stopped before the rollback";
  EXPECT_TRUE(state.ends_with("helper-alive\nnext\n"))
      << "the rollbacks did not run in the experiment's order: " << state;
  EXPECT_TRUE(testing::wait_until([&] { return testing::pid_gone(helper); }, 10s));
}

// Finding 7: two runs on one attached process undid each other's pause. Now the second refuses at
// start, naming the run that holds the process, and the first keeps it paused throughout.
TEST(CrashWindows, ASecondRunOnAPausedProcessRefusesAtStartAndTheFirstHolds) {
  Child sleeper({"sleep", "600"});
  const std::string yaml_a =
      "name: first\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
      " } }\nsteady_state:\n  probes:\n    - name: ok\n      command: { run: [\"true\"] }\n"
      "phases:\n  - name: p\n    duration: 3s\n    faults:\n      - pause: { target: sleeper }\n";
  CrashRun a;
  a.start(yaml_a);
  ASSERT_TRUE(testing::wait_until([&] { return !a.of_type("fault.injected").empty(); }, 30s)) << a.run->output();
  const std::string run_a = a.of_type("run.started").front().value("run_id", "");
  CrashRun b;
  std::string yaml_b = yaml_a;
  yaml_b.replace(yaml_b.find("name: first"), 11, "name: second");
  yaml_b.replace(yaml_b.find("duration: 3s"), 12, "duration: 1s");
  b.start(yaml_b);
  auto code_b = b.run->wait(30s);
  ASSERT_TRUE(code_b.has_value());
  EXPECT_EQ(*code_b, 3) << b.run->output();
  EXPECT_NE(b.run->output().find("is in use by run " + run_a), std::string::npos) << b.run->output();
  EXPECT_TRUE(b.of_type("fault.injected").empty()) << "the refused run injected something";
  // Before, the second run's own 1 s pause ended by resuming the process under the first run's pause.
  ASSERT_TRUE(a.of_type("fault.reverted").empty()) << "the first run's pause ended before the second run did";
  EXPECT_EQ(testing::process_state(sleeper.pid()), 'T') << "the paused process was resumed while the pause was on";
  auto code_a = a.run->wait(30s);
  ASSERT_TRUE(code_a.has_value());
  EXPECT_EQ(*code_a, 0) << a.run->output();
  EXPECT_NE(testing::process_state(sleeper.pid()), 'T');
}

// Finding 10: a runner stopped (SIGSTOP) past a fault's end keeps it on; on resumption the fault is
// reverted at once, a fault whose end passed meanwhile is not injected at all, and the journal and
// the verdict say the timeline slipped.
TEST(CrashWindows, AFrozenRunnerRevertsAtOnceOnResumptionAndTheVerdictSaysTheTimelineSlipped) {
  Child sleeper({"sleep", "600"});
  Child other({"sleep", "600"});
  CrashRun c;
  c.start("name: frozen\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
          " } }\n  other: { attach: { pid: " + std::to_string(other.pid()) +
          " } }\nsteady_state:\n  probes:\n    - name: ok\n      command: { run: [\"true\"] }\n"
          "phases:\n  - name: p\n    duration: 2s\n    faults:\n"
          "      - pause: { target: sleeper, for: 800ms }\n"
          "      - pause: { target: other, at: 900ms, for: 100ms }\n");
  ASSERT_TRUE(testing::wait_until([&] { return !c.of_type("fault.injected").empty(); }, 30s)) << c.run->output();
  c.run->signal(SIGSTOP);
  std::this_thread::sleep_for(2500ms);  // the freeze is the behaviour under test
  c.run->signal(SIGCONT);
  auto code = c.run->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << c.run->output();
  const auto slipped = c.of_type("timeline.slipped");
  ASSERT_FALSE(slipped.empty()) << c.run->output();
  EXPECT_EQ(slipped.front().value("where", ""), "revert of pause sleeper") << slipped.front().dump();
  EXPECT_GT(slipped.front().value("late_ms", 0.0), 1000.0) << slipped.front().dump();
  // The revert came right after the slip was noticed, before anything else on the timeline.
  const auto all = c.events();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].value("type", "") != "timeline.slipped") continue;
    ASSERT_LT(i + 1, all.size());
    EXPECT_EQ(all[i + 1].value("type", ""), "fault.reverted") << all[i + 1].dump();
    break;
  }
  const auto skipped = c.of_type("fault.skipped");
  ASSERT_EQ(skipped.size(), 1u) << c.run->output();
  EXPECT_EQ(skipped.front().value("target", ""), "other");
  EXPECT_EQ(c.of_type("fault.injected").size(), 1u) << "a fault whose end had passed was injected";
  EXPECT_NE(c.of_type("run.verdict").front().value("reasons", "").find("the timeline slipped"), std::string::npos)
      << c.of_type("run.verdict").front().dump();
  // The live output says so too, not only the journal.
  EXPECT_NE(c.run->output().find("timeline SLIPPED: revert of pause sleeper"), std::string::npos) << c.run->output();
  EXPECT_NE(c.run->output().find("fault skipped: "), std::string::npos) << c.run->output();
  EXPECT_NE(testing::process_state(sleeper.pid()), 'T');
  EXPECT_NE(testing::process_state(other.pid()), 'T');
}

std::string variant_name(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "ProcessProxyAndKernel" : "ProcessAndProxy";
}

// A process already answers the target's ready check (a demo left running, or two targets given one
// port): the run must not call the target ready, probe that other process and judge it. It stops
// before any fault, names the port, stops what it started, and leaves the other process running.
TEST(TargetStart, AReadyCheckThatAnotherProcessAlreadyPassesStopsTheRunBeforeAnyFault) {
  testing::TempDir dir;
  const int port = testing::free_port(), proxy = testing::free_port();
  Child holder({testing::bin("demo-token-service"), "--port", std::to_string(port)});
  ASSERT_TRUE(testing::wait_until(
      [&] { return testing::http_request("GET", "127.0.0.1", port, "/health").status == 200; }, 10s))
      << holder.output();
  const std::string at = "127.0.0.1:" + std::to_string(port);
  testing::write_file(
      dir.file("e.yaml"),
      "name: taken-port\ntargets:\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" +
          std::to_string(port) + "\"]\n      ready: { http: \"http://" + at +
          "/health\" }\n    proxy: { listen: \"127.0.0.1:" + std::to_string(proxy) + "\", upstream: \"" + at +
          "\" }\nphases:\n  - name: p\n    duration: 1s\n" +
          "    faults:\n      - latency: { target: tokens, latency: 10ms }\n");
  const std::string journal = dir.file("journal.jsonl");
  Child run({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
             "--journal", journal});
  ASSERT_EQ(run.wait(60s), 3) << run.output();
  EXPECT_NE(run.output().find("the ready check (http://" + at + "/health) already passes before target 'tokens'"),
            std::string::npos)
      << run.output();
  EXPECT_TRUE(testing::journal_events(journal, "target.started").empty()) << run.output();
  EXPECT_TRUE(testing::journal_events(journal, "fault.injected").empty()) << run.output();
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", port, "/health").status, 200) << "the holder was touched";
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", proxy, "/health").status, 0) << "the run's proxy is still there";
}

INSTANTIATE_TEST_SUITE_P(Faults, RunnerSafety, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace chaosplus
