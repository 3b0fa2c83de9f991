#include <signal.h>

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "probes/probe.h"
#include "support/support.h"

namespace chaosplus::probes {
namespace {

using chaosplus::testing::pid_gone;
using chaosplus::testing::read_pid_file;
using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

spec::CommandProbe sh(const std::string& script, Duration timeout = std::chrono::seconds(30)) {
  spec::CommandProbe probe;
  probe.argv = {"sh", "-c", script};
  probe.timeout = timeout;
  return probe;
}

TEST(CommandProbe, ExitCodeZeroPasses) {
  const ProbeResult outcome = run_command(sh("exit 0"), {});
  EXPECT_TRUE(outcome.ok) << outcome.detail;
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(outcome.detail, "");
  EXPECT_GT(outcome.latency.count(), 0);
}

TEST(CommandProbe, ANonZeroExitCodeFailsAndIsReported) {
  const ProbeResult outcome = run_command(sh("echo 'disk full' >&2; exit 3"), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 3);
  EXPECT_EQ(outcome.detail, "exit code 3, expected 0 (output: disk full)");
}

TEST(CommandProbe, AnExpectedExitCodePasses) {
  spec::Expectation expect;
  expect.exit_code = 3;
  const ProbeResult outcome = run_command(sh("exit 3"), expect);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(CommandProbe, StdoutAndStderrAreMatchedTogether) {
  spec::Expectation expect;
  expect.output_regex = "hello\nworld";
  const ProbeResult outcome = run_command(sh("echo hello; echo world >&2"), expect);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(CommandProbe, OutputThatDoesNotMatchFails) {
  spec::Expectation expect;
  expect.output_contains = "PONG";
  const ProbeResult outcome = run_command(sh("echo ERR"), expect);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(outcome.detail, "output does not contain 'PONG'");
}

TEST(CommandProbe, ArgumentsArePassedWithoutAShell) {
  spec::CommandProbe probe;
  probe.argv = {"echo", "$HOME", "a;b"};
  spec::Expectation expect;
  expect.output_contains = "$HOME a;b";
  const ProbeResult outcome = run_command(probe, expect);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(CommandProbe, AKillingSignalGivesOneHundredTwentyEightPlusTheSignal) {
  const ProbeResult outcome = run_command(sh("kill -KILL $$"), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 128 + SIGKILL);
  EXPECT_EQ(outcome.detail, "exit code 137, expected 0");
}

TEST(CommandProbe, ATimeoutKillsTheWholeProcessGroup) {
  TempDir dir;
  const std::string pidfile = dir.file("grandchild.pid");
  const ProbeResult outcome =
      run_command(sh("sleep 30 & echo $! > " + pidfile + "; wait", std::chrono::milliseconds(300)), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.detail, "timed out after 300ms");
  EXPECT_EQ(outcome.status, 128 + SIGKILL);
  const int grandchild = read_pid_file(pidfile);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(wait_until([&] { return pid_gone(grandchild); }));
}

TEST(CommandProbe, AMissingProgramFailsWithTheReason) {
  spec::CommandProbe probe;
  probe.argv = {"chaosplus-no-such-program"};
  const ProbeResult outcome = run_command(probe, {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 127);
  EXPECT_EQ(outcome.detail, "cannot run 'chaosplus-no-such-program': not found (looked in PATH)");
}

TEST(CommandProbe, AnEmptyCommandFails) {
  const ProbeResult outcome = run_command({}, {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(contains(outcome.detail, "empty")) << outcome.detail;
}

TEST(CommandProbe, StdinIsDevNullSoReadersDoNotHang) {
  spec::Expectation expect;
  expect.output_contains = "/dev/null";
  const ProbeResult outcome = run_command(sh("cat; readlink /proc/$$/fd/0"), expect);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(CommandProbe, OutputBeyondTheCapIsDrainedAndTheCommandCompletes) {
  // 3 MiB through the pipe: the probe must keep reading past its 1 MiB cap or the writer blocks.
  spec::Expectation expect;
  expect.output_contains = "tail-marker";
  const ProbeResult capped = run_command(sh("head -c 3145728 /dev/zero; echo tail-marker"), expect);
  EXPECT_FALSE(capped.ok);
  EXPECT_EQ(capped.detail, "output does not contain 'tail-marker'");
  EXPECT_EQ(capped.status, 0);
  const ProbeResult small = run_command(sh("head -c 1000 /dev/zero; echo tail-marker"), expect);
  EXPECT_TRUE(small.ok) << small.detail;
}

TEST(CommandProbe, ABackgroundProcessHoldingTheOutputDoesNotStallTheProbe) {
  TempDir dir;
  const std::string pidfile = dir.file("background.pid");
  spec::Expectation expect;
  expect.output_contains = "started";
  const ProbeResult outcome = run_command(sh("sleep 30 & echo $! > " + pidfile + "; echo started"), expect);
  const int background = read_pid_file(pidfile);
  if (background > 0) ::kill(background, SIGKILL);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(CommandProbe, ConcurrentProbesKeepTheirOwnResults) {
  constexpr int kThreads = 6;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < 5; ++round) {
        spec::Expectation expect;
        expect.output_contains = "probe-" + std::to_string(t) + "\n";
        expect.exit_code = t;
        const ProbeResult outcome =
            run_command(sh("echo probe-" + std::to_string(t) + "; exit " + std::to_string(t)), expect);
        if (!outcome.ok || outcome.status != t) {
          failures[t] = outcome.detail + " status " + std::to_string(outcome.status);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST(CommandProbe, RunDispatchesACommandProbe) {
  spec::Probe probe;
  probe.name = "check";
  probe.kind = sh("exit 4");
  const ProbeResult outcome = run(probe);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 4);
}

}  // namespace
}  // namespace chaosplus::probes
