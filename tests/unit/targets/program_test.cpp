#include "targets/program.h"

#include <signal.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/support.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::pid_gone;
using chaosplus::testing::read_pid_file;
using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;

std::vector<std::string> sh(const std::string& script) { return {"sh", "-c", script}; }

TEST(RunProgram, StdoutAndStderrAreKeptApart) {
  auto run = run_program(sh("echo out; echo err >&2; exit 5"));
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->exit_code, 5);
  EXPECT_EQ(run->out, "out\n");
  EXPECT_EQ(run->err, "err\n");
  EXPECT_FALSE(run->timed_out);
}

TEST(RunProgram, MergedStderrIsInterleavedAsWritten) {
  ProgramOptions options;
  options.merge_stderr = true;
  auto run = run_program(sh("echo one; echo two >&2; echo three"), options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->out, "one\ntwo\nthree\n");
  EXPECT_EQ(run->err, "");
}

TEST(RunProgram, TheInputIsGivenOnStdin) {
  ProgramOptions options;
  std::string input(200 * 1024, 'x');  // larger than a pipe buffer
  input += "\nend\n";
  options.input = input;
  auto run = run_program(std::vector<std::string>{"cat"}, options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->out.size(), input.size());
  EXPECT_TRUE(run->out == input);
}

TEST(RunProgram, WithoutInputStdinIsEmpty) {
  auto run = run_program(sh("cat; echo done"));
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->out, "done\n");
}

TEST(RunProgram, ArgumentsAreNotInterpretedByAShell) {
  auto run = run_program(std::vector<std::string>{"echo", "$HOME", "a;b", "`id`"});
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->out, "$HOME a;b `id`\n");
}

TEST(RunProgram, WhatTheProgramLeftInItsGroupIsKilledWhenAsked) {
  TempDir dir;
  const std::string pidfile = dir.file("left.pid");
  ProgramOptions options;
  options.kill_leftovers = true;
  auto run = run_program(sh("sleep 60 >/dev/null 2>&1 & echo $! > " + pidfile), options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->exit_code, 0);
  const int left = read_pid_file(pidfile);
  ASSERT_GT(left, 0);
  EXPECT_TRUE(wait_until([&] { return pid_gone(left); }));
}

TEST(RunProgram, ByDefaultWhatTheProgramStartedInTheBackgroundKeepsRunning) {
  TempDir dir;
  const std::string pidfile = dir.file("service.pid");
  auto run = run_program(sh("sleep 60 >/dev/null 2>&1 & echo $! > " + pidfile));
  ASSERT_TRUE(run.ok()) << run.error();
  const int service = read_pid_file(pidfile);
  ASSERT_GT(service, 0);
  const char state = chaosplus::testing::process_state(service);
  ::kill(service, SIGKILL);
  EXPECT_NE(state, 0);
  EXPECT_NE(state, 'Z');
}

TEST(RunProgram, AProcessThatLeftTheGroupAndHoldsTheOutputDoesNotStallTheRun) {
  TempDir dir;
  const std::string pidfile = dir.file("escaped.pid");
  auto run = run_program(sh("setsid sleep 60 & echo $! > " + pidfile + "; echo started"));
  const int escaped = read_pid_file(pidfile);
  if (escaped > 0) ::kill(escaped, SIGKILL);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_FALSE(run->timed_out);
  EXPECT_EQ(run->out, "started\n");
}

TEST(RunProgram, ATimeoutKillsTheWholeGroupAndKeepsWhatWasPrinted) {
  TempDir dir;
  const std::string pidfile = dir.file("child.pid");
  ProgramOptions options;
  options.timeout = std::chrono::milliseconds(300);
  auto run = run_program(sh("echo before; sleep 60 & echo $! > " + pidfile + "; wait"), options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_TRUE(run->timed_out);
  EXPECT_EQ(run->exit_code, 128 + SIGKILL);
  EXPECT_EQ(run->out, "before\n");
  const int child = read_pid_file(pidfile);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(wait_until([&] { return pid_gone(child); }));
}

TEST(RunProgram, OutputBeyondTheCapIsDroppedWithoutBlockingTheWriter) {
  ProgramOptions options;
  options.max_output = 1000;
  auto run = run_program(sh("head -c 3000000 /dev/zero; echo marker; head -c 3000000 /dev/zero >&2"), options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->out.size(), 1000U);
  EXPECT_EQ(run->err.size(), 1000U);
}

TEST(RunProgram, AMissingProgramIsAnErrorThatSaysWhereItLooked) {
  auto run = run_program(std::vector<std::string>{"chaosplus-no-such-program"});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error(), "cannot run 'chaosplus-no-such-program': not found (looked in PATH)");
  ProgramOptions options;
  options.search_sbin = true;
  auto tool = run_program(std::vector<std::string>{"chaosplus-no-such-tool"}, options);
  ASSERT_FALSE(tool.ok());
  EXPECT_EQ(tool.error(), "cannot run 'chaosplus-no-such-tool': not found (looked in sbin, bin and PATH)");
}

TEST(RunProgram, AnEmptyCommandIsAnError) {
  auto run = run_program(std::vector<std::string>{});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error(), "the command is empty");
}

TEST(FindProgram, SbinIsSearchedFirstOnlyWhenAsked) {
  EXPECT_EQ(find_program("sh", true), "/usr/bin/sh");  // Debian 12 is merged-/usr: /usr/bin before /bin
  EXPECT_FALSE(find_program("sh", false).empty());
  EXPECT_EQ(find_program("/bin/sh", false), "/bin/sh");
  EXPECT_EQ(find_program("/no/such/program", true), "");
  EXPECT_EQ(find_program("", false), "");
}

TEST(DescribeCommand, JoinsTheArguments) {
  EXPECT_EQ(describe_command(std::vector<std::string>{"nft", "list", "tables"}), "nft list tables");
  EXPECT_EQ(describe_command(std::vector<std::string>{}), "");
}

}  // namespace
}  // namespace chaosplus::targets
