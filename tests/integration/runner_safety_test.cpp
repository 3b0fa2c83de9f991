// Every way a run can end puts the system back: success, deviation, guardrail abort, Ctrl-C,
// SIGTERM, `chaosplus halt` from another process, and kill -9 followed by `chaosplus recover` (or
// by the next run). Real processes throughout: the chaosplus binary, its fault proxy, the demo
// token service, and a process the experiment attaches to and pauses. Each test runs twice: with
// those faults, and with a kernel-level fault (an nftables `reject` of a loopback port) as well,
// after which the host's rule set must read byte for byte as before (that variant needs root and
// nft, and fails without them, as kernel_faults_test.cpp).
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

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
  testing::Listener spare;          // the port the kernel fault rejects
  std::vector<pid_t> runs;          // pids of the runs started

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
    endpoint: "127.0.0.1:)" + std::to_string(spare.port()) + R"("
  sleeper:
    attach: { pid: )" + std::to_string(sleeper->pid()) + R"( }
  tokens:
    process:
      command: [demo-token-service, --port, ")" + std::to_string(tokens_port) + R"("]
      ready: { http: "http://127.0.0.1:)" + std::to_string(tokens_port) + R"(/health", timeout: 10s }
    proxy: { listen: "127.0.0.1:)" + std::to_string(proxy_port) + R"(", upstream: "127.0.0.1:)" +
                       std::to_string(tokens_port) + R"(" }
steady_state:
  probes:
    - name: tokens-health
      http: { url: "http://127.0.0.1:)" + std::to_string(proxy_port) + R"(/health", timeout: 1s }
      expect: )" + expect + R"(
      every: 100ms
      tolerance: { success_rate: ">= 90%" }
)" + guardrails + R"(
phases:
  - name: chaos
    duration: )" + phase + R"(
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
  auto run = s.start_run(s.write_experiment(
      "30s", "      - blackhole: { target: tokens, at: 300ms }\n",
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

std::string variant_name(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "ProcessProxyAndKernel" : "ProcessAndProxy";
}

INSTANTIATE_TEST_SUITE_P(Faults, RunnerSafety, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace chaosplus
