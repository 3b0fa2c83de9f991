#include "targets/process.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include <gtest/gtest.h>

#include "support/support.h"
#include "targets/attach.h"
#include "targets/launch.h"
#include "unit/targets/target_helpers.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::pid_gone;
using chaosplus::testing::read_pid_file;
using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;
using test::command;
using test::KillOnExit;
using test::sh;

ProcessId spawn_ok(const spec::ProcessLaunch& launch, const TempDir& dir) {
  auto id = spawn(launch, dir.file("process.log"));
  EXPECT_TRUE(id.ok()) << id.error();
  return id.ok() ? *id : ProcessId{};
}

TEST(ProcessIdentity, StartTimeOfARunningProcessIsReadable) {
  auto start = process_start_time(static_cast<int>(::getpid()));
  ASSERT_TRUE(start.ok()) << start.error();
  EXPECT_GT(*start, 0u);
  auto id = identify(static_cast<int>(::getpid()));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->start_time, *start);
}

TEST(ProcessIdentity, StartTimeOfAMissingPidIsAnError) {
  EXPECT_FALSE(process_start_time(0).ok());
  auto start = process_start_time(INT_MAX);
  ASSERT_FALSE(start.ok());
  EXPECT_NE(start.error().find(std::to_string(INT_MAX)), std::string::npos) << start.error();
}

TEST(ProcessIdentity, ProcessNameIsTheKernelsName) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  EXPECT_EQ(process_name(id.pid), "sleep");
  EXPECT_EQ(describe(id), "pid " + std::to_string(id.pid) + " (sleep)");
}

TEST(ProcessLiveness, ASpawnedProcessIsAlive) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  EXPECT_TRUE(is_alive(id));
}

TEST(ProcessLiveness, AKilledChildIsNotAliveAndItsZombieIsReaped) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  ASSERT_EQ(::kill(id.pid, SIGKILL), 0);
  EXPECT_TRUE(wait_until([&] { return !is_alive(id); }));
  // is_alive reaped it: no zombie is left in /proc.
  EXPECT_TRUE(wait_until([&] { return process_state(id.pid) == 0; }));
}

TEST(ProcessLiveness, ADifferentStartTimeMeansNotTheSameProcess) {
  auto self = identify(static_cast<int>(::getpid()));
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(is_alive(*self));
  EXPECT_FALSE(is_alive({self->pid, self->start_time + 1}));
}

TEST(ProcessLiveness, StateShowsAStoppedProcess) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  ASSERT_TRUE(send_signal(id, SIGSTOP).ok());
  EXPECT_TRUE(wait_until([&] { return process_state(id.pid) == 'T'; }));
  EXPECT_TRUE(is_alive(id));  // stopped is still alive
}

TEST(ProcessLiveness, StateOfAMissingPidIsZero) { EXPECT_EQ(process_state(INT_MAX), 0); }

TEST(ProcessSignals, SignalReachesAMatchingProcess) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  ASSERT_TRUE(send_signal(id, SIGKILL).ok());
  EXPECT_TRUE(wait_until([&] { return !is_alive(id); }));
}

TEST(ProcessSignals, SignalIsRefusedWhenTheStartTimeDiffers) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  auto sent = send_signal({id.pid, id.start_time + 1}, SIGKILL);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.error().find("another process"), std::string::npos) << sent.error();
  EXPECT_TRUE(is_alive(id));
}

TEST(ProcessSignals, SignalToAGoneProcessIsAnError) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"true"}), dir);
  ASSERT_TRUE(wait_until([&] { return !is_alive(id); }));
  auto sent = send_signal(id, SIGTERM);
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.error().find("gone"), std::string::npos) << sent.error();
}

TEST(ProcessSignals, GroupScopeReachesTheChildrenOfAGroupLeader) {
  TempDir dir;
  const ProcessId id = spawn_ok(sh("sleep 30 & echo $! > " + dir.file("child.pid") + "; wait"), dir);
  KillOnExit guard(id);
  const int child = read_pid_file(dir.file("child.pid"));
  ASSERT_GT(child, 0);
  ASSERT_TRUE(send_signal(id, SIGKILL, SignalScope::group).ok());
  EXPECT_TRUE(wait_until([&] { return pid_gone(child); }));
}

TEST(ProcessSignals, ProcessScopeLeavesTheRestOfTheGroupAlone) {
  TempDir dir;
  const ProcessId id = spawn_ok(sh("sleep 30 & echo $! > " + dir.file("child.pid") + "; wait"), dir);
  KillOnExit guard(id);
  const int child = read_pid_file(dir.file("child.pid"));
  auto child_id = identify(child);
  ASSERT_TRUE(child_id.ok());
  KillOnExit child_guard(*child_id);
  ASSERT_TRUE(send_signal(id, SIGKILL, SignalScope::process).ok());
  ASSERT_TRUE(wait_until([&] { return !is_alive(id); }));
  EXPECT_TRUE(is_alive(*child_id));
}

TEST(ProcessGroups, GroupMembersListsTheLiveMembers) {
  TempDir dir;
  const ProcessId id = spawn_ok(sh("sleep 30 & echo $! > " + dir.file("child.pid") + "; wait"), dir);
  KillOnExit guard(id);
  const int child = read_pid_file(dir.file("child.pid"));
  const auto members = group_members(id.pid);
  EXPECT_NE(std::find(members.begin(), members.end(), id.pid), members.end());
  EXPECT_NE(std::find(members.begin(), members.end(), child), members.end());
  EXPECT_EQ(members.size(), 2u);
}

TEST(ProcessStop, StopEndsASleepingChild) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  auto stopped = stop(id);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(is_alive(id));
  EXPECT_EQ(process_state(id.pid), 0);  // reaped, not a zombie
}

TEST(ProcessStop, StopEscalatesToSigkillWhenSigtermIsIgnored) {
  TempDir dir;
  const std::string log = dir.file("process.log");
  auto id = spawn(sh("trap '' TERM; echo trapped; while :; do sleep 1; done"), log);
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  // The trap must be in place before SIGTERM arrives, or the test proves nothing.
  ASSERT_TRUE(wait_until([&] { return chaosplus::testing::read_file(log).find("trapped") != std::string::npos; }));
  auto stopped = stop(*id, std::chrono::milliseconds(200));
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(is_alive(*id));
  EXPECT_TRUE(group_members(id->pid).empty());
}

TEST(ProcessStop, StopEndsAStoppedProcess) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  ASSERT_TRUE(send_signal(id, SIGSTOP).ok());
  ASSERT_TRUE(wait_until([&] { return process_state(id.pid) == 'T'; }));
  auto stopped = stop(id, std::chrono::seconds(10));
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(is_alive(id));
}

TEST(ProcessStop, StopOfAGoneProcessIsOk) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"true"}), dir);
  ASSERT_TRUE(wait_until([&] { return !is_alive(id); }));
  EXPECT_TRUE(stop(id).ok());
}

TEST(ProcessStop, StopNeverSignalsAReusedPid) {
  TempDir dir;
  const ProcessId id = spawn_ok(command({"sleep", "30"}), dir);
  KillOnExit guard(id);
  // Same pid, other start time: as if the target died and the pid went to someone else.
  EXPECT_TRUE(stop({id.pid, id.start_time + 1}).ok());
  EXPECT_TRUE(is_alive(id));
}

TEST(ProcessStop, StopEndsTheWholeProcessGroup) {
  TempDir dir;
  const ProcessId id = spawn_ok(sh("sleep 30 & echo $! > " + dir.file("child.pid") + "; wait"), dir);
  KillOnExit guard(id);
  const int child = read_pid_file(dir.file("child.pid"));
  ASSERT_GT(child, 0);
  auto stopped = stop(id);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_TRUE(wait_until([&] { return pid_gone(child); }));
}

TEST(ProcessStop, StopEndsGroupMembersThatOutliveTheLeader) {
  TempDir dir;
  // The leader exits on SIGTERM; its child ignores SIGTERM and must be killed too.
  const ProcessId id = spawn_ok(sh("(trap '' TERM; echo ready > " + dir.file("ready") +
                                   "; while :; do sleep 1; done) & echo $! > " + dir.file("child.pid") + "; wait"),
                                dir);
  KillOnExit guard(id);
  const int child = read_pid_file(dir.file("child.pid"));
  ASSERT_TRUE(wait_until([&] { return !chaosplus::testing::read_file(dir.file("ready")).empty(); }));
  auto stopped = stop(id, std::chrono::milliseconds(300));
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_TRUE(wait_until([&] { return pid_gone(child); }));
  EXPECT_TRUE(group_members(id.pid).empty());
}

TEST(ProcessStop, StopEndsAProcessThatIsNotOurChild) {
  TempDir dir;
  // sh starts sleep in the background and exits: sleep is re-parented, as after a runner restart.
  const ProcessId shell = spawn_ok(sh("sleep 30 & echo $! > " + dir.file("orphan.pid")), dir);
  KillOnExit shell_guard(shell);
  ASSERT_TRUE(wait_until([&] { return !is_alive(shell); }));
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("orphan.pid");
  const int orphan_pid = read_pid_file(attach.pidfile);
  ASSERT_GT(orphan_pid, 0);
  auto orphan = resolve(attach);
  ASSERT_TRUE(orphan.ok()) << orphan.error();
  KillOnExit orphan_guard(*orphan);
  auto stopped = stop(*orphan);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(is_alive(*orphan));
  EXPECT_TRUE(wait_until([&] { return pid_gone(orphan->pid); }));
}

}  // namespace
}  // namespace chaosplus::targets
