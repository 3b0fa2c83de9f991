// The cases that fooled the verdict (issue 9), against the real programs: a run that checked
// nothing, a halt by `chaosplus halt`, a supervisor paused while its child is killed (a bash restart
// loop standing in for Patroni), a process under `runuser` paused (the wrapper stops itself by job
// control), and Debian's redis-server killed and brought back by its restart_command.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TempDir;

struct Case {
  TempDir dir;
  std::string state_dir = dir.file("state");
  std::string journal = dir.file("journal.jsonl");

  std::string write(const std::string& yaml) {
    const std::string path = dir.file("experiment.yaml");
    testing::write_file(path, yaml);
    return path;
  }

  std::unique_ptr<Child> start_run(const std::string& experiment) {
    return std::make_unique<Child>(std::vector<std::string>{testing::bin("chaosplus"), "run", experiment, "--plain",
                                                            "--state-dir", state_dir, "--journal", journal});
  }

  std::string chaosplus(const std::vector<std::string>& args, int* code) {
    std::vector<std::string> argv{testing::bin("chaosplus")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--state-dir");
    argv.push_back(state_dir);
    Child c(argv);
    auto rc = c.wait(60s);
    *code = rc.value_or(-1);
    return c.output();
  }

  std::vector<nlohmann::json> events(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : testing::read_lines(journal)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
    }
    return out;
  }
};

bool stopped(pid_t pid) {
  const char s = testing::process_state(pid);
  return s == 'T' || s == 't';
}

// The children of `pid`, from /proc/<pid>/task/<pid>/children.
std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  for (pid_t child; in >> child;) out.push_back(child);
  return out;
}

// A run that pauses `pid` for a minute, started and waited for until its fault is on.
std::unique_ptr<Child> start_pausing_run(Case& c, const std::string& name, pid_t pid) {
  auto run = c.start_run(c.write("name: " + name + "\ntargets:\n  sleeper:\n    attach: { pid: " + std::to_string(pid) +
                                 " }\nphases:\n  - name: chaos\n    duration: 60s\n    faults:\n"
                                 "      - pause: { target: sleeper }\n"));
  testing::wait_until([&] { return !c.events("fault.injected").empty(); }, 30s);
  return run;
}

TEST(VerdictCases, ARunWithNothingCheckedIsUncheckedNotHeld) {
  Case c;
  Child sleeper({"sleep", "600"});
  auto run = c.start_run(c.write(R"(name: nothing-checked
targets:
  sleeper:
    attach: { pid: )" + std::to_string(sleeper.pid()) +
                                 R"( }
phases:
  - name: chaos
    duration: 300ms
    faults:
      - pause: { target: sleeper }
)"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 6) << run->output();
  EXPECT_NE(run->output().find("UNCHECKED"), std::string::npos) << run->output();
  EXPECT_NE(run->output().find("nothing was checked"), std::string::npos) << run->output();
  EXPECT_EQ(run->output().find("held before, during and after"), std::string::npos) << run->output();
  auto verdicts = c.events("run.verdict");
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts[0]["verdict"], "unchecked");
  EXPECT_EQ(verdicts[0]["exit_code"], 6);
  EXPECT_TRUE(testing::wait_until([&] { return !stopped(sleeper.pid()); }, 5s));
}

TEST(VerdictCases, AProbeThatNeverRanPrintsNotRun) {
  Case c;
  Child sleeper({"sleep", "600"});
  const int port = testing::free_port();  // nothing listens: the before check fails
  auto run = c.start_run(c.write(R"(name: not-run
targets:
  sleeper:
    attach: { pid: )" + std::to_string(sleeper.pid()) +
                                 R"( }
steady_state:
  probes:
    - name: up
      tcp: { address: "127.0.0.1:)" +
                                 std::to_string(port) + R"(", timeout: 500ms }
      every: 100ms
phases:
  - name: chaos
    duration: 300ms
    faults:
      - pause: { target: sleeper }
)"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1) << run->output();
  EXPECT_NE(run->output().find("probe up during the phases: not run"), std::string::npos) << run->output();
  EXPECT_EQ(run->output().find("0/0"), std::string::npos) << run->output();
}

TEST(VerdictCases, AHaltIsReportedAsAHaltByChaosplusHalt) {
  Case c;
  Child sleeper({"sleep", "600"});
  auto run = start_pausing_run(c, "halted", sleeper.pid());
  ASSERT_FALSE(c.events("fault.injected").empty()) << run->output();
  int halt_code = -1;
  const std::string halt_output = c.chaosplus({"halt"}, &halt_code);
  EXPECT_EQ(halt_code, 0) << halt_output;
  auto code = run->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  EXPECT_NE(run->output().find("halted by `chaosplus halt` (pid "), std::string::npos) << run->output();
  EXPECT_EQ(run->output().find("received SIGTERM"), std::string::npos) << run->output();
  auto halted = c.events("run.halted");
  ASSERT_EQ(halted.size(), 1u);
  EXPECT_NE(halted[0]["reason"].get<std::string>().find("chaosplus halt"), std::string::npos);
}

TEST(VerdictCases, APlainSigtermNamesItsSender) {
  Case c;
  Child sleeper({"sleep", "600"});
  auto run = start_pausing_run(c, "sigterm", sleeper.pid());
  ASSERT_FALSE(c.events("fault.injected").empty()) << run->output();
  ::kill(run->pid(), SIGTERM);
  auto code = run->wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  EXPECT_NE(run->output().find("received SIGTERM from pid " + std::to_string(::getpid())), std::string::npos)
      << run->output();
}

TEST(VerdictCases, AGuardrailAbortWithAFailedRevertSaysBothAndExitsFour) {
  Case c;
  auto sleeper = std::make_unique<Child>(std::vector<std::string>{"sleep", "600"});
  const std::string pid = std::to_string(sleeper->pid());
  // Killed by pid with no restart_command: nothing can bring it back, so its revert fails. (The probe
  // reads the state: the killed sleep stays a zombie of this test until it is reaped.)
  auto run = c.start_run(c.write(R"(name: not-restored
targets:
  sleeper:
    attach: { pid: )" + pid + R"( }
steady_state:
  probes:
    - name: sleeper-runs
      command: { run: [grep, -qE, "^State:.[RS]", /proc/)" +
                                 pid + R"(/status] }
      every: 100ms
guardrails:
  - when: { probe: sleeper-runs, success_rate: "< 50%", over: 1s, min_samples: 3 }
phases:
  - name: chaos
    duration: 30s
    faults:
      - kill: { target: sleeper, at: 200ms }
)"));
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 4) << run->output();
  const std::string out = run->output();
  EXPECT_NE(out.find("NOT RESTORED (exit code 4)"), std::string::npos) << out;
  EXPECT_NE(out.find("guardrail"), std::string::npos) << out;
  EXPECT_NE(out.find("revert failed: kill sleeper"), std::string::npos) << out;
  EXPECT_NE(out.find("chaosplus recover"), std::string::npos) << out;
  auto verdict = c.events("run.verdict");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_EQ(verdict[0]["verdict"], "not_restored");
  EXPECT_EQ(verdict[0]["exit_code"], 4);
}

// A restart loop: runs `sleep 600`, writes its pid to the pidfile, and starts it again when it dies.
constexpr const char* kSupervisor = R"(#!/bin/bash
while true; do
  sleep 600 &
  echo $! > "$1.new" && mv "$1.new" "$1"
  wait $!
done
)";

TEST(VerdictCases, AKilledChildComesBackOnceItsPausedSupervisorIsResumed) {
  Case c;
  const std::string script = c.dir.file("supervisor.sh");
  const std::string pidfile = c.dir.file("child.pid");
  testing::write_file(script, kSupervisor);
  Child supervisor({"bash", script, pidfile});
  const int first_child = testing::read_pid_file(pidfile);
  ASSERT_GT(first_child, 0);
  auto run = c.start_run(c.write(R"(name: supervised
targets:
  supervisor:
    attach: { pid: )" + std::to_string(supervisor.pid()) +
                                 R"( }
  child:
    attach: { pidfile: ")" + pidfile +
                                 R"(" }
steady_state:
  probes:
    - name: child-runs
      command: { run: [bash, -c, ")" +
                                 "kill -0 $(cat " + pidfile + ")" + R"("] }
phases:
  - name: chaos
    duration: 1500ms
    faults:
      - pause: { target: supervisor }
      - kill: { target: child, at: 300ms }
)"));
  auto code = run->wait(90s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << run->output();
  auto reverted = c.events("fault.reverted");
  ASSERT_EQ(reverted.size(), 2u) << run->output();
  for (const auto& e : reverted) EXPECT_TRUE(e["ok"].get<bool>()) << e.dump();
  // The pause came off first, then the kill's revert found the child its supervisor started.
  EXPECT_EQ(reverted[0]["fault"], "pause");
  EXPECT_EQ(reverted[1]["fault"], "kill");
  EXPECT_FALSE(stopped(supervisor.pid()));
  const int child = testing::read_pid_file(pidfile);
  EXPECT_GT(child, 0);
  EXPECT_NE(child, first_child);
  EXPECT_FALSE(testing::pid_gone(child));
  ::kill(child, SIGKILL);  // the supervisor's group is killed with it at the end; this one too
}

// The issue's case: the kill trips a guardrail while the supervisor is paused. Before, the kill's
// revert ran first, failed, and the run ended ERROR without the guardrail among its reasons.
TEST(VerdictCases, AGuardrailTrippedByAKillUnderAPausedSupervisorAbortsAndEverythingComesBack) {
  Case c;
  const std::string script = c.dir.file("supervisor.sh");
  const std::string pidfile = c.dir.file("child.pid");
  testing::write_file(script, kSupervisor);
  Child supervisor({"bash", script, pidfile});
  const int first_child = testing::read_pid_file(pidfile);
  ASSERT_GT(first_child, 0);
  // The child the pidfile names exists and is not a zombie (paused counts as there).
  const std::string there = "grep -qE '^State:.[RSTt]' /proc/$(cat " + pidfile + ")/status";
  auto run = c.start_run(c.write(R"(name: supervised-guardrail
targets:
  supervisor:
    attach: { pid: )" + std::to_string(supervisor.pid()) +
                                 R"( }
  child:
    attach: { pidfile: ")" + pidfile +
                                 R"(" }
steady_state:
  probes:
    - name: child-there
      command: { run: [bash, -c, ")" +
                                 there + R"("] }
      every: 100ms
guardrails:
  - when: { probe: child-there, success_rate: "< 50%", over: 1s, min_samples: 3 }
phases:
  - name: chaos
    duration: 30s
    faults:
      - pause: { target: supervisor }
      - kill: { target: child, at: 300ms }
)"));
  auto code = run->wait(90s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2) << run->output();
  EXPECT_NE(run->output().find("guardrail 'child-there"), std::string::npos) << run->output();
  EXPECT_NE(run->output().find("the system recovered"), std::string::npos) << run->output();
  auto reverted = c.events("fault.reverted");
  ASSERT_EQ(reverted.size(), 2u) << run->output();
  for (const auto& e : reverted) EXPECT_TRUE(e["ok"].get<bool>()) << e.dump();
  EXPECT_FALSE(stopped(supervisor.pid()));
  const int child = testing::read_pid_file(pidfile);
  EXPECT_NE(child, first_child);
  EXPECT_FALSE(testing::pid_gone(child));
}

// `runuser -u nobody -- sleep 600` started by the test: the wrapper and its child.
struct Wrapped {
  Child wrapper{{"runuser", "-u", "nobody", "--", "sleep", "600"}};
  pid_t child = 0;
  Wrapped() {
    testing::wait_until([&] {
      auto kids = children_of(wrapper.pid());
      if (kids.size() == 1 && testing::process_state(kids[0]) != 0) child = kids[0];
      return child != 0;
    });
  }
};

std::string pause_experiment(pid_t pid, const std::string& duration) {
  return R"(name: wrapped
targets:
  sleeper:
    attach: { pid: )" +
         std::to_string(pid) + R"( }
steady_state:
  probes:
    - name: sleeper-runs
      command: { run: [kill, "-0", ")" +
         std::to_string(pid) + R"("] }
phases:
  - name: chaos
    duration: )" +
         duration + R"(
    faults:
      - pause: { target: sleeper }
)";
}

TEST(VerdictCases, PausingAProcessUnderRunuserLeavesNoStoppedWrapper) {
  Case c;
  Wrapped w;
  ASSERT_GT(w.child, 0) << w.wrapper.output();
  auto run = c.start_run(c.write(pause_experiment(w.child, "2s")));
  // The wrapper stops itself while its child is paused (job control); the test sees it happen.
  EXPECT_TRUE(testing::wait_until([&] { return stopped(w.wrapper.pid()); }, 30s)) << run->output();
  auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << run->output();
  EXPECT_TRUE(testing::wait_until([&] { return !stopped(w.wrapper.pid()) && !stopped(w.child); }, 5s))
      << "wrapper state " << testing::process_state(w.wrapper.pid()) << ", child state "
      << testing::process_state(w.child);
}

TEST(VerdictCases, RecoverAfterKillNineResumesTheRunuserWrapperToo) {
  Case c;
  Wrapped w;
  ASSERT_GT(w.child, 0) << w.wrapper.output();
  auto run = c.start_run(c.write(pause_experiment(w.child, "60s")));
  ASSERT_TRUE(testing::wait_until([&] { return stopped(w.wrapper.pid()) && stopped(w.child); }, 30s)) << run->output();
  run->signal(SIGKILL);
  ASSERT_TRUE(run->wait(10s).has_value());
  int code = -1;
  const std::string out = c.chaosplus({"recover"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(testing::wait_until([&] { return !stopped(w.wrapper.pid()) && !stopped(w.child); }, 5s))
      << "wrapper state " << testing::process_state(w.wrapper.pid()) << ", child state "
      << testing::process_state(w.child) << "\n"
      << out;
}

// Debian's redis-server on a free loopback port with its own settings (never the system service),
// daemonised with a pidfile, so the restart_command brings back the same kind of process.
struct Redis {
  TempDir dir;
  int port = testing::free_port();
  std::string pidfile = dir.file("redis.pid");
  std::vector<std::string> command() const {
    return {"redis-server", "--port",    std::to_string(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no",        "--daemonize",        "yes",    "--pidfile", pidfile,  "--dir",
            dir.path(),     "--logfile", dir.file("redis.log")};
  }
  Redis() {
    Child start(command());
    start.wait(10s);
    testing::wait_until([&] { return ping(); }, 10s);
  }
  ~Redis() {
    const int pid = testing::read_pid_file(pidfile);
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  bool ping() const {
    Child cli({"redis-cli", "-p", std::to_string(port), "ping"});
    auto rc = cli.wait(5s);
    return rc == 0 && cli.output().find("PONG") != std::string::npos;
  }
};

std::string yaml_list(const std::vector<std::string>& argv) {
  std::string out = "[";
  for (std::size_t i = 0; i < argv.size(); ++i) out += (i ? ", " : "") + nlohmann::json(argv[i]).dump();
  return out + "]";
}

TEST(VerdictCases, RedisKilledInTheLastPhaseIsReadyBeforeTheAfterCheck) {
  Case c;
  Redis redis;
  ASSERT_TRUE(redis.ping()) << testing::read_file(redis.dir.file("redis.log"));
  const int first = testing::read_pid_file(redis.pidfile);
  const std::string port = std::to_string(redis.port);
  auto run = c.start_run(c.write(R"(name: redis-restart
targets:
  redis:
    attach:
      pidfile: ")" + redis.pidfile +
                                 R"("
      restart_command: )" + yaml_list(redis.command()) +
                                 R"(
      ready: { command: [redis-cli, -p, ")" +
                                 port + R"(", ping], timeout: 10s }
steady_state:
  probes:
    - name: redis-ping
      command: { run: [redis-cli, -p, ")" +
                                 port + R"(", ping], timeout: 3s }
      expect: { output_contains: PONG }
  after: { within: 10s }
phases:
  - name: chaos
    duration: 1s
    faults:
      - kill: { target: redis, at: 500ms }
)"));
  auto code = run->wait(90s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << run->output();
  auto reverted = c.events("fault.reverted");
  ASSERT_EQ(reverted.size(), 1u) << run->output();
  EXPECT_TRUE(reverted[0]["ok"].get<bool>()) << reverted[0].dump();
  EXPECT_TRUE(reverted[0].contains("ready_ms")) << reverted[0].dump();
  auto verdict = c.events("run.verdict");
  ASSERT_EQ(verdict.size(), 1u);
  EXPECT_TRUE(verdict[0].contains("time_to_recover_ms")) << verdict[0].dump();
  EXPECT_NE(run->output().find("time to recover"), std::string::npos) << run->output();
  EXPECT_TRUE(redis.ping());
  EXPECT_NE(testing::read_pid_file(redis.pidfile), first);
}

}  // namespace
}  // namespace chaosplus
