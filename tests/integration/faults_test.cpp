// Process faults on real processes: each injects, reverts to the original state, and can be undone
// from its ledger record alone by a process that did not inject it.
#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "support/support.h"
#include "targets/attach.h"
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
  s.handle.start_recorded = [&](const spec::ProcessLaunch& launch) {
    ++started;
    return targets::spawn(launch, s.handle.log_path());
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
  ASSERT_TRUE(
      testing::wait_until([&] { return testing::read_file(handle.log_path()).find("ready") != std::string::npos; }));
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

// A target attached by pidfile, running `sleep 600` (written to the pidfile); stopped at scope exit.
struct Attached {
  testing::TempDir dir;
  std::string pidfile = dir.file("legacy.pid");
  std::optional<TargetHandle> handle;
  std::vector<targets::ProcessId> started;

  // restartable: with a restart_command that starts a new process and writes its pid to the pidfile.
  explicit Attached(bool restartable = false) {
    spec::Target t;
    t.name = "legacy";
    spec::ProcessAttach attach;
    attach.pidfile = pidfile;
    if (restartable) attach.restart_command = {"sh", "-c", "echo $$ > " + pidfile + "; exec sleep 600"};
    t.attach = attach;
    handle.emplace(t, dir.file("legacy.log"));
    handle->set_process(start_another());
  }
  // What a supervisor does: a new process, and the pidfile names it.
  targets::ProcessId start_another() {
    spec::ProcessLaunch launch;
    launch.command = {"sleep", "600"};
    auto id = targets::spawn(launch, dir.file("sleep.log"));
    EXPECT_TRUE(id.ok()) << id.error();
    started.push_back(*id);
    testing::write_file(pidfile, std::to_string(id->pid) + "\n");
    return *id;
  }
  ~Attached() {
    for (const auto& id : started) (void)targets::stop(id);
    if (auto pid = targets::resolve(handle->spec().attach.value())) (void)targets::stop(*pid);
  }
};

TEST(KillFault, OfAnAttachedProcessThatCameBackByItselfIsReverted) {
  Attached a;
  HaltSwitch halt;
  auto fault = make_fault(fault_of("kill", "legacy"), *a.handle);
  ASSERT_TRUE(fault.ok());
  const std::string record = (*fault)->record();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_FALSE(undo((*fault)->kind(), record).ok()) << "still down, and nothing can start it";
  const targets::ProcessId back = a.start_another();
  EXPECT_TRUE(undo((*fault)->kind(), record).ok()) << "recover sees it back";
  ASSERT_TRUE((*fault)->revert(halt).ok());
  ASSERT_TRUE(a.handle->process().has_value());
  EXPECT_EQ(*a.handle->process(), back);
}

TEST(KillFault, AnAttachedTargetBroughtBackByItsRestartCommandIsNotRecordedAsStartedByTheRun) {
  Attached a(/*restartable=*/true);
  int recorded = 0;
  a.handle->start_recorded = [&](const spec::ProcessLaunch& launch) {
    ++recorded;
    return targets::spawn(launch, a.handle->log_path());
  };
  HaltSwitch halt;
  const targets::ProcessId before = *a.handle->process();
  auto fault = make_fault(fault_of("kill", "legacy"), *a.handle);
  ASSERT_TRUE(fault.ok());
  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_TRUE((*fault)->revert(halt).ok());
  ASSERT_TRUE(a.handle->process().has_value());
  EXPECT_NE(a.handle->process()->pid, before.pid);
  EXPECT_TRUE(targets::is_alive(*a.handle->process()));
  EXPECT_EQ(recorded, 0) << "the run's end would stop it, leaving the target down";
}

TEST(KillFault, UndoFromTheRecordRunsTheRestartCommandOfAnAttachedTarget) {
  Attached a(/*restartable=*/true);
  HaltSwitch halt;
  auto fault = make_fault(fault_of("kill", "legacy"), *a.handle);
  ASSERT_TRUE(fault.ok());
  const std::string record = (*fault)->record();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_TRUE(undo((*fault)->kind(), record).ok());
  EXPECT_TRUE(testing::wait_until([&] { return targets::resolve(*a.handle->spec().attach).ok(); }));
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
