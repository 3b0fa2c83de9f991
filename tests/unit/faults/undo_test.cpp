// undo() from ledger records alone: a system tool still running is stopped before anything is
// decided, rollbacks run (again) after stopping a run of them that was cut short, and the order of
// undoing is a normal run's.
#include "faults/undo.h"

#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "faults/rollback.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;

targets::ProcessId start(const std::string& script) {
  spec::ProcessLaunch launch;
  launch.command = {"sh", "-c", script};
  auto id = targets::spawn(launch, "/dev/null");
  EXPECT_TRUE(id.ok()) << id.error();
  return id.ok() ? *id : targets::ProcessId{};
}

TEST(Undo, FaultsThenRollbacksThenStartedProcesses) {
  EXPECT_EQ(undo_stage(kinds::nft_table), UndoStage::fault);
  EXPECT_EQ(undo_stage(kinds::process_paused), UndoStage::fault);
  EXPECT_EQ(undo_stage(kinds::rollback), UndoStage::rollback);
  EXPECT_EQ(undo_stage(kinds::process_started), UndoStage::started_process);
  EXPECT_LT(UndoStage::fault, UndoStage::rollback);
  EXPECT_LT(UndoStage::rollback, UndoStage::started_process);
}

// The qdisc's namespace is gone, so nothing but the tool is left to undo: the undo must still stop
// the tool the record names, before it says the change is off.
TEST(Undo, AToolStillRunningIsStoppedBeforeTheChangeIsJudged) {
  const targets::ProcessId tool = start("exec sleep 60");
  ASSERT_TRUE(targets::is_alive(tool));
  const nlohmann::json record{{"namespace", "chaosplus-undo-test-gone"},
                              {"interface", "cpa0"},
                              {"handle", "100:"},
                              {"prior", ""},
                              {"tool_pid", tool.pid},
                              {"tool_start_time", tool.start_time}};
  Status s = undo(kinds::tbf_qdisc, record.dump());
  EXPECT_TRUE(s.ok()) << s.error();
  EXPECT_FALSE(targets::is_alive(tool)) << "the tool of the change is still running";
}

TEST(Undo, ARollbackCutShortIsStoppedWithItsGroupAndRunAgain) {
  TempDir dir;
  const std::string pidfile = dir.file("child.pid");
  const std::string marker = dir.file("rolled-back");
  // The shell is killed (as by its runner's death), leaving its child in the group.
  const targets::ProcessId shell = start("sleep 600 & echo $! > " + pidfile + "; wait");
  const int child = chaosplus::testing::read_pid_file(pidfile);
  ASSERT_GT(child, 0);
  ::kill(shell.pid, SIGKILL);
  ASSERT_TRUE(wait_until([&] { return !targets::is_alive(shell); }));
  ASSERT_FALSE(chaosplus::testing::pid_gone(child));

  spec::Rollback rollback;
  rollback.name = "reset";
  rollback.command = spec::CommandProbe{{"sh", "-c", "echo done > " + marker}, std::chrono::seconds(10)};
  const std::string record = rollback_record_running(rollback_record(rollback, nullptr), shell);
  Status s = undo(kinds::rollback, record);
  EXPECT_TRUE(s.ok()) << s.error();
  EXPECT_TRUE(wait_until([&] { return chaosplus::testing::pid_gone(child); }, std::chrono::seconds(5)))
      << "what the cut-short rollback started is still running";
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the rollback was not run again";
}

TEST(Undo, AFailingRollbackSaysWhichAndHow) {
  spec::Rollback rollback;
  rollback.name = "reset";
  rollback.command = spec::CommandProbe{{"sh", "-c", "echo nope; exit 3"}, std::chrono::seconds(10)};
  Status s = undo(kinds::rollback, rollback_record(rollback, nullptr));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), "rollback reset: exit code 3 (output: nope)");
}

TEST(Undo, AStartedProcessWithoutAnIdentityNeverRan) {
  EXPECT_TRUE(undo(kinds::process_started, started_process_record("target x", std::nullopt)).ok());
}

}  // namespace
}  // namespace chaosplus::faults
