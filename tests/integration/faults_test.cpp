// Process faults on real processes: each injects, reverts to the original state, and can be undone
// from its ledger record alone by a process that did not inject it.
#include <gtest/gtest.h>

#include <csignal>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

spec::Target sleeper_target(const std::string& name) {
  spec::Target t;
  t.name = name;
  spec::ProcessLaunch launch;
  launch.command = {"sleep", "600"};
  t.process = launch;
  return t;
}

spec::Fault fault_of(const std::string& type, const std::string& target) {
  spec::Fault f;
  f.type = type;
  f.target = target;
  return f;
}

struct Started {
  testing::TempDir dir;
  TargetHandle handle;
  explicit Started(const std::string& name) : handle(sleeper_target(name), dir.file(name + ".log")) {
    auto id = targets::spawn(*handle.spec().process, handle.log_path());
    EXPECT_TRUE(id.ok()) << id.error();
    handle.set_process(*id);
  }
  ~Started() {
    if (auto id = handle.process()) (void)targets::stop(*id);
  }
};

TEST(PauseFault, StopsTheProcessAndRevertResumesIt) {
  Started s("worker");
  HaltSwitch halt;
  auto fault = make_fault(fault_of("pause", "worker"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(targets::process_state(s.handle.process()->pid), 'T');
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_NE(targets::process_state(s.handle.process()->pid), 'T');
  EXPECT_TRUE((*fault)->revert(halt).ok()) << "revert is idempotent";
}

TEST(PauseFault, IsUndoneFromItsLedgerRecordAlone) {
  Started s("worker");
  HaltSwitch halt;
  auto fault = make_fault(fault_of("pause", "worker"), s.handle);
  ASSERT_TRUE(fault.ok());
  const std::string record = (*fault)->record();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_EQ(targets::process_state(s.handle.process()->pid), 'T');
  ASSERT_TRUE(undo((*fault)->kind(), record).ok());
  EXPECT_NE(targets::process_state(s.handle.process()->pid), 'T');
}

TEST(KillFault, KillsAndRevertStartsTheTargetAgain) {
  Started s("worker");
  HaltSwitch halt;
  const targets::ProcessId before = *s.handle.process();
  auto fault = make_fault(fault_of("kill", "worker"), s.handle);
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_FALSE(targets::is_alive(before));
  EXPECT_FALSE(s.handle.process().has_value());
  int started = 0;
  s.handle.on_started = [&](const targets::ProcessId&) {
    ++started;
    return ok_status();
  };
  ASSERT_TRUE((*fault)->revert(halt).ok());
  ASSERT_TRUE(s.handle.process().has_value());
  EXPECT_TRUE(targets::is_alive(*s.handle.process()));
  EXPECT_NE(s.handle.process()->pid, before.pid);
  EXPECT_EQ(started, 1) << "the new process is reported so the runner can record it";
}

TEST(KillFault, WithAnotherSignalLeavesAProcessThatIgnoresIt) {
  testing::TempDir dir;
  spec::Target t;
  t.name = "stubborn";
  spec::ProcessLaunch launch;
  launch.command = {"sh", "-c", "trap '' USR1; echo ready; exec sleep 600"};
  t.process = launch;
  TargetHandle handle(t, dir.file("stubborn.log"));
  auto id = targets::spawn(launch, handle.log_path());
  ASSERT_TRUE(id.ok());
  handle.set_process(*id);
  spec::Fault f = fault_of("kill", "stubborn");
  f.params["signal"] = "SIGUSR1";
  HaltSwitch halt;
  auto fault = make_fault(f, handle);
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE(testing::wait_until([&] { return testing::read_file(handle.log_path()).find("ready") != std::string::npos; }));
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_TRUE(targets::is_alive(*id));
  (void)targets::stop(*id);
}

TEST(KillFault, OfAnAttachedProcessWithoutRestartCommandCannotBeRevertedAndSaysWhy) {
  testing::Child victim({"sleep", "600"});
  spec::Target t;
  t.name = "legacy";
  spec::ProcessAttach attach;
  attach.pid = victim.pid();
  t.attach = attach;
  testing::TempDir dir;
  TargetHandle handle(t, dir.file("legacy.log"));
  handle.set_process(targets::identify(victim.pid()).value());
  HaltSwitch halt;
  auto fault = make_fault(fault_of("kill", "legacy"), handle);
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE((*fault)->inject(halt).ok());
  Status reverted = (*fault)->revert(halt);
  ASSERT_FALSE(reverted.ok());
  EXPECT_NE(reverted.error().find("restart_command"), std::string::npos) << reverted.error();
}

TEST(RestartFault, LeavesTheTargetRunningAsANewProcess) {
  Started s("worker");
  HaltSwitch halt;
  const targets::ProcessId before = *s.handle.process();
  auto fault = make_fault(fault_of("restart", "worker"), s.handle);
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_FALSE(targets::is_alive(before));
  ASSERT_TRUE(s.handle.process().has_value());
  EXPECT_TRUE(targets::is_alive(*s.handle.process()));
}

TEST(Undo, StartedProcessRecordStopsTheProcess) {
  testing::TempDir dir;
  spec::ProcessLaunch launch;
  launch.command = {"sleep", "600"};
  auto id = targets::spawn(launch, dir.file("x.log"));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(undo(kinds::process_started, started_process_record("x", *id)).ok());
  EXPECT_FALSE(targets::is_alive(*id));
  EXPECT_TRUE(undo(kinds::process_started, started_process_record("x", *id)).ok()) << "idempotent";
}

TEST(Undo, RejectsUnknownKindsAndBrokenRecords) {
  EXPECT_FALSE(undo("bogus.kind", "{}").ok());
  EXPECT_FALSE(undo(kinds::process_paused, "not json").ok());
  EXPECT_FALSE(undo(kinds::proxy_toxic, R"({"proxy":"x"})").ok());
}

}  // namespace
}  // namespace chaosplus::faults
