// limit on a real process: /proc/PID/limits shows the lowered limit while the fault is on and the
// original one after revert, and a process that did not inject it restores the original from the
// ledger record alone (recover after a crash).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/loader.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

// "Max open files            1024                 1048576              files" -> "1024 1048576"
std::string limits_line(int pid, const std::string& label) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(label)) continue;
    std::istringstream rest(line.substr(label.size()));
    std::string soft, hard;
    rest >> soft >> hard;
    return soft + " " + hard;
  }
  return "";
}

struct Sleeper {
  testing::TempDir dir;
  TargetHandle handle;
  Sleeper() : handle(target(), dir.file("worker.log")) {
    auto id = targets::spawn(*handle.spec().process, handle.log_path());
    EXPECT_TRUE(id.ok()) << id.error();
    if (id) handle.set_process(*id);
  }
  ~Sleeper() {
    if (auto id = handle.process()) (void)targets::stop(*id);
  }
  static spec::Target target() {
    spec::Target t;
    t.name = "worker";
    spec::ProcessLaunch launch;
    launch.command = {"sleep", "600"};
    t.process = launch;
    return t;
  }
};

// The fault as the loader reads it from an experiment file.
spec::Fault loaded(const std::string& settings) {
  const std::string text =
      "name: limits\ntargets:\n  worker: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - limit: { target: worker, " +
      settings + " }\n";
  auto result = spec::load_experiment_text(text, "limits.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.ok() ? result.experiment->phases[0].faults[0] : spec::Fault{};
}

TEST(LimitFault, LowersTheLimitWhileOnAndRestoresItExactly) {
  Sleeper s;
  const int pid = s.handle.process()->pid;
  const std::string before = limits_line(pid, "Max open files");
  ASSERT_FALSE(before.empty());
  HaltSwitch halt;
  auto fault = make_fault(loaded("resource: nofile, soft: 64"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  EXPECT_EQ((*fault)->kind(), "process.rlimit");
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(limits_line(pid, "Max open files"), "64 " + before.substr(before.find(' ') + 1)) << "the hard limit stays";
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ(limits_line(pid, "Max open files"), before);
  EXPECT_TRUE((*fault)->revert(halt).ok()) << "revert is idempotent";
  EXPECT_EQ(limits_line(pid, "Max open files"), before);
}

TEST(LimitFault, UndoFromTheRecordAloneRestoresTheOriginalLimits) {
  Sleeper s;
  const int pid = s.handle.process()->pid;
  const std::string before = limits_line(pid, "Max core file size");
  HaltSwitch halt;
  auto fault = make_fault(loaded("resource: core, soft: 0"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();  // what the runner writes before inject
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(limits_line(pid, "Max core file size").substr(0, 2), "0 ");
  // The injecting runner "crashed": only the ledger entry is left.
  ASSERT_TRUE(undo((*fault)->kind(), record).ok());
  EXPECT_EQ(limits_line(pid, "Max core file size"), before);
  EXPECT_TRUE(undo((*fault)->kind(), record).ok()) << "undo is idempotent";
  const auto r = nlohmann::json::parse(record);
  EXPECT_EQ(r.at("pid"), pid);
  EXPECT_EQ(r.at("resource"), "core");
}

TEST(LimitFault, UndoOfAProcessThatIsGoneIsDone) {
  Sleeper s;
  auto fault = make_fault(loaded("resource: nofile, soft: 64"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();
  ASSERT_TRUE(targets::stop(*s.handle.process()).ok());
  s.handle.set_process(std::nullopt);
  EXPECT_TRUE(undo("process.rlimit", record).ok());
}

bool has_cap_sys_resource() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("CapEff:")) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;
  }
  return false;
}

// A lowered hard limit can only be raised back with CAP_SYS_RESOURCE: with it the fault lowers and
// restores it, without it the fault refuses rather than leave a change it cannot undo.
TEST(LimitFault, LowersTheHardLimitOnlyWhenItCanRaiseItBack) {
  Sleeper s;
  const int pid = s.handle.process()->pid;
  const std::string before = limits_line(pid, "Max open files");
  auto fault = make_fault(loaded("resource: nofile, soft: 64, hard: 128"), s.handle);
  if (!has_cap_sys_resource()) {
    ASSERT_FALSE(fault.ok());
    EXPECT_NE(fault.error().find("lacks CAP_SYS_RESOURCE"), std::string::npos) << fault.error();
    EXPECT_EQ(limits_line(pid, "Max open files"), before);
    return;
  }
  ASSERT_TRUE(fault.ok()) << fault.error();
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(limits_line(pid, "Max open files"), "64 128");
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ(limits_line(pid, "Max open files"), before);
}

TEST(LimitFault, RefusesToRaiseALimit) {
  Sleeper s;
  auto fault = make_fault(loaded("resource: nofile, soft: 64"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  auto higher = make_fault(loaded("resource: nofile, soft: 100"), s.handle);
  ASSERT_FALSE(higher.ok());
  EXPECT_NE(higher.error().find("limit only lowers"), std::string::npos) << higher.error();
  EXPECT_TRUE((*fault)->revert(halt).ok());
}

TEST(LimitFault, TheLoaderRefusesAHardLimitBelowTheSoftOne) {
  const std::string text =
      "name: limits\ntargets:\n  worker: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - limit: { target: worker, resource: nofile, "
      "soft: 64, hard: 32 }\n";
  auto result = spec::load_experiment_text(text, "limits.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 8);
  EXPECT_NE(result.errors[0].message.find("hard: found 32, expected at least soft (64)"), std::string::npos)
      << result.errors[0].message;
}

}  // namespace
}  // namespace chaosplus::faults
