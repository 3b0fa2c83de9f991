// The spawn gate: a child is known (pid + start time) before it runs, runs only when let through,
// and never runs at all when the process that started it dies first.
#include "targets/gated_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "support/support.h"
#include "targets/launch.h"
#include "targets/program.h"
#include "unit/targets/target_helpers.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;
using test::KillOnExit;
using test::sh;

bool exists(const std::string& path) { return std::filesystem::exists(path); }

TEST(GatedChild, BeforeExecSeesTheIdentityBeforeTheProgramRuns) {
  TempDir dir;
  const std::string marker = dir.file("ran");
  bool marker_before = true;
  ProcessId seen;
  auto id = spawn(sh("echo x > " + marker + "; exec sleep 60"), dir.file("log"), [&](const ProcessId& child) {
    seen = child;
    // Give a program that ran anyway every chance to show it.
    wait_until([&] { return exists(marker); }, std::chrono::milliseconds(200));
    marker_before = exists(marker);
    return ok_status();
  });
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit cleanup(*id);
  EXPECT_EQ(seen, *id) << "the identity recorded is the one that runs";
  EXPECT_FALSE(marker_before) << "the program ran before its identity was handed over";
  EXPECT_TRUE(wait_until([&] { return exists(marker); }));
}

TEST(GatedChild, AnErrorFromBeforeExecMeansTheProgramNeverRuns) {
  TempDir dir;
  const std::string marker = dir.file("ran");
  ProcessId seen;
  auto id = spawn(sh("echo x > " + marker), dir.file("log"), [&](const ProcessId& child) {
    seen = child;
    return Status(Error{"the ledger is full"});
  });
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().find("the ledger is full"), std::string::npos) << id.error();
  EXPECT_FALSE(is_alive(seen)) << "the child was left waiting";
  EXPECT_FALSE(exists(marker));
}

TEST(GatedChild, ProgramsOfRunProgramAreGatedToo) {
  TempDir dir;
  const std::string marker = dir.file("ran");
  ProgramOptions options;
  bool marker_before = true;
  options.before_exec = [&](const ProcessId&) {
    wait_until([&] { return exists(marker); }, std::chrono::milliseconds(200));
    marker_before = exists(marker);
    return ok_status();
  };
  auto run = run_program(std::vector<std::string>{"sh", "-c", "echo x > " + marker}, options);
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_FALSE(marker_before);
  EXPECT_TRUE(exists(marker));
}

// A helper process starts children through the gate and dies at the gate (as a runner killed with
// -9 between fork and its ledger write); it tells us the children's pids through a pipe.
struct DeadStarter {
  std::vector<int> children;
};

DeadStarter start_and_die(const std::string& marker, int children) {
  int report[2];
  EXPECT_EQ(::pipe(report), 0);
  const pid_t helper = ::fork();
  if (helper == 0) {
    ::close(report[0]);
    // Nested: each child is at its gate while the next is forked, so a gate held open by a
    // sibling's inherited descriptor would show here as a child that never exits.
    std::function<void(int)> start = [&](int left) {
      (void)spawn(sh("echo x >> " + marker), "/dev/null", [&](const ProcessId& child) {
        [[maybe_unused]] ssize_t n = ::write(report[1], &child.pid, sizeof child.pid);
        if (left > 1) start(left - 1);
        ::_exit(0);  // dies with every child still at its gate
        return ok_status();
      });
    };
    start(children);
    ::_exit(1);
  }
  ::close(report[1]);
  DeadStarter out;
  int pid = 0;
  // Children that cannot see their gate close keep this pipe open too: read with a deadline.
  pollfd ready{report[0], POLLIN, 0};
  while (::poll(&ready, 1, 10000) == 1 && ::read(report[0], &pid, sizeof pid) == sizeof pid) {
    out.children.push_back(pid);
  }
  ::close(report[0]);
  int status = 0;
  ::waitpid(helper, &status, 0);
  return out;
}

TEST(GatedChild, WhenTheStarterDiesAtTheGateNothingRuns) {
  TempDir dir;
  const std::string marker = dir.file("ran");
  const DeadStarter dead = start_and_die(marker, 3);
  ASSERT_EQ(dead.children.size(), 3u);
  for (int pid : dead.children) {
    EXPECT_TRUE(wait_until([&] { return chaosplus::testing::pid_gone(pid); })) << "child " << pid << " still waits";
  }
  EXPECT_FALSE(exists(marker)) << "a child ran although nobody recorded it";
}

TEST(GatedChild, AToolDiesWithTheThreadThatStartedIt) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t helper = ::fork();
  if (helper == 0) {
    ::close(report[0]);
    ProgramOptions options;
    options.timeout = std::chrono::seconds(60);
    options.before_exec = [&](const ProcessId& child) {
      [[maybe_unused]] ssize_t n = ::write(report[1], &child.pid, sizeof child.pid);
      return ok_status();
    };
    std::thread killer([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the helper dies while the tool runs
      ::_exit(0);
    });
    (void)run_program(std::vector<std::string>{"sleep", "60"}, options);
    ::_exit(1);
  }
  ::close(report[1]);
  int tool = 0;
  ASSERT_EQ(::read(report[0], &tool, sizeof tool), static_cast<ssize_t>(sizeof tool));
  ::close(report[0]);
  int status = 0;
  ::waitpid(helper, &status, 0);
  EXPECT_TRUE(wait_until([&] { return chaosplus::testing::pid_gone(tool); }, std::chrono::seconds(5)))
      << "the tool outlived the process that started it";
}

TEST(GatedChild, ExecFailuresAreReported) {
  ChildPlan plan;
  plan.path = "/nonexistent/chaosplus-no-such-program";
  plan.argv = {plan.path};
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  plan.stdin_fd = plan.stdout_fd = plan.stderr_fd = devnull;
  auto id = start_gated(plan, {});
  ::close(devnull);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().find("exec /nonexistent/chaosplus-no-such-program"), std::string::npos) << id.error();
}

}  // namespace
}  // namespace chaosplus::targets
