// The host resource faults (cpu, memory, io_stress) through `chaosplus run` with the real stress-ng:
// the effect is seen from outside while the fault is on (stress-ng's workers burning CPU time, the
// holder's resident memory, io_stress's folder, a cgroup's memory limit), and afterwards nothing is
// left (no stress-ng, no folder) and the cgroup settings and memberships read exactly as before;
// also after kill -9 of the runner and `chaosplus recover`. No timing or accuracy assertions: those
// are measured in bench/host_faults.sh. The cgroups are the test's own (v1 here; the v2 path runs
// where the host binds the controllers to v2), removed in a guard even on failure.
// Runs alone among the tests that start stress-ng (tests/CMakeLists.txt: a CTest resource lock).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "faults/cgroups.h"
#include "faults/fault.h"
#include "faults/target_handle.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "spec/loader.h"
#include "support/journal.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
namespace cg = faults::cgroups;

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Live stress-ng processes (the leader and its workers: stress-ng, stress-ng-cpu, ...), by comm.
std::vector<int> stress_ng_pids(const std::string& comm_prefix = "stress-ng") {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (first_line("/proc/" + name + "/comm").starts_with(comm_prefix) && testing::process_state(pid) != 'Z') {
      out.push_back(pid);
    }
  }
  return out;
}

// Whether `pid` descends from `root` (its parent, or its parent's parent, ...): a stress-ng this
// test's run started, not one of another test's.
bool descends_from(int pid, int root) {
  for (int hop = 0; pid > 1 && hop < 64; ++hop) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    int parent = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("PPid:")) parent = std::atoi(line.c_str() + 5);
    }
    if (parent == root) return true;
    pid = parent;
  }
  return false;
}

std::vector<int> stress_ng_pids_of(int root, const std::string& comm_prefix) {
  std::vector<int> out;
  for (int pid : stress_ng_pids(comm_prefix)) {
    if (descends_from(pid, root)) out.push_back(pid);
  }
  return out;
}

// VmRSS of a process in bytes (0 when gone).
std::uint64_t rss(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// utime + stime of a process in clock ticks.
unsigned long long cpu_ticks(int pid) {
  const std::string stat = first_line("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

std::vector<std::string> io_folders(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(".chaosplus-io_stress-")) out.push_back(e.path().string());
  }
  return out;
}

// A cgroup of the test's own for one v1 controller (or the v2 mount, where the controller is there),
// at the top of the hierarchy; anything left in it goes back to the top and the group is removed,
// even when the test fails.
class TestGroup {
 public:
  explicit TestGroup(const std::string& controller) {
    auto ours = cg::of_process(static_cast<int>(::getpid()), controller);
    if (!ours) {
      why_ = ours.error();
      return;
    }
    mount_ = ours->mount;
    dir_ = mount_ + "/chaosplus-stress-test-" + std::to_string(::getpid()) + "-" + controller;
    if (::mkdir(dir_.c_str(), 0755) != 0) why_ = "cannot make " + dir_ + ": " + std::strerror(errno);
  }
  ~TestGroup() {
    if (!why_.empty()) return;
    for (int attempt = 0; attempt < 100 && std::filesystem::exists(dir_); ++attempt) {
      for (int pid : cg::processes(dir_)) (void)cg::add_process(mount_, pid);
      if (::rmdir(dir_.c_str()) == 0) break;
      ::usleep(20000);  // clean-up, not a test step: a process still leaving the group keeps rmdir busy
    }
  }
  const std::string& why_not() const { return why_; }
  const std::string& dir() const { return dir_; }
  std::string name() const { return dir_.substr(mount_.size()); }

 private:
  std::string why_, mount_, dir_;
};

// Every stress-ng is gone and io_stress's folder too.
void expect_nothing_left(const std::string& io_dir) {
  EXPECT_TRUE(testing::wait_until([] { return stress_ng_pids().empty(); }, 10s))
      << stress_ng_pids().size() << " stress-ng process(es) left";
  EXPECT_TRUE(io_folders(io_dir).empty()) << io_folders(io_dir).front();
}

struct StressRun {
  testing::TempDir dir;
  std::string state = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::string io_dir = dir.file("io");
  std::string experiment = dir.file("stress.yaml");

  StressRun() { std::filesystem::create_directory(io_dir); }

  std::unique_ptr<Child> start(const std::string& yaml) {
    testing::write_file(experiment, yaml);
    return std::make_unique<Child>(std::vector<std::string>{bin("chaosplus"), "run", experiment, "--plain",
                                                            "--state-dir", state, "--journal", journal});
  }
};

// A process in the test's own groups (it moves itself there, then sleeps), attached to by pid once
// it is in every one of them: a target with cgroups of its own.
class GroupedSleeper {
 public:
  explicit GroupedSleeper(const std::vector<const TestGroup*>& groups) {
    std::string script;
    for (const auto* g : groups) script += "echo $$ > " + g->dir() + "/cgroup.procs && ";
    child_ = std::make_unique<Child>(std::vector<std::string>{"sh", "-c", script + "exec sleep 600"});
    in_place_ = testing::wait_until([&] {
      const std::string now = testing::read_file("/proc/" + std::to_string(child_->pid()) + "/cgroup");
      for (const auto* g : groups) {
        if (now.find(g->name() + "\n") == std::string::npos) return false;
      }
      return true;
    });
  }
  bool in_place() const { return in_place_; }
  std::string target() const { return "  app: { attach: { pid: " + std::to_string(child_->pid()) + " } }\n"; }
  std::string cgroups() const { return testing::read_file("/proc/" + std::to_string(child_->pid()) + "/cgroup"); }

 private:
  std::unique_ptr<Child> child_;
  bool in_place_ = false;
};

TEST(StressFaults, CpuMemoryAndIoAreSeenWhileOnAndNothingIsLeftAfterTheRun) {
  if (auto why = testing::needs_root("stress-ng"); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(stress_ng_pids().empty()) << "a stress-ng runs already";
  StressRun r;
  auto run = r.start(
      "name: stress\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: on\n    duration: 8s\n    faults:\n"
      "      - cpu: { target: app, cores: 1, load: 100%, for: 7s }\n"
      "      - memory: { target: app, size: 128MiB, for: 7s }\n"
      "      - io_stress: { target: app, path: " +
      r.io_dir + ", size: 16MiB, for: 7s }\n");
  ASSERT_TRUE(testing::wait_until([&] { return journal_events(r.journal, "fault.injected").size() == 3; }, 60s))
      << run->output();
  // CPU: the worker's own CPU time grows.
  const auto workers = stress_ng_pids_of(run->pid(), "stress-ng-cpu");
  ASSERT_FALSE(workers.empty());
  const auto ticks = cpu_ticks(workers.front());
  EXPECT_TRUE(testing::wait_until([&] { return cpu_ticks(workers.front()) > ticks + 10; }, 5s));
  // Memory: a holder with at least the size resident.
  EXPECT_TRUE(testing::wait_until(
      [&] {
        for (int pid : stress_ng_pids_of(run->pid(), "stress-ng-vm")) {
          if (rss(pid) >= 128ull << 20) return true;
        }
        return false;
      },
      5s));
  // I/O: its folder under the path.
  EXPECT_EQ(io_folders(r.io_dir).size(), 1u);

  const auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value()) << run->output();
  EXPECT_NE(run->output().find("faults: 3 injected, 3 reverted"), std::string::npos) << run->output();
  for (const auto& e : journal_events(r.journal, "fault.reverted")) EXPECT_TRUE(e.value("ok", false)) << e.dump();
  expect_nothing_left(r.io_dir);
}

TEST(StressFaults, ScopeTargetLimitsTheTargetsOwnGroupsAndPutsEverythingBack) {
  if (auto why = testing::needs_root("cgroups"); !why.empty()) GTEST_SKIP() << why;
  TestGroup memory("memory"), cpu("cpu");
  if (!memory.why_not().empty() || !cpu.why_not().empty()) GTEST_SKIP() << memory.why_not() << cpu.why_not();
  auto place = cg::of_process(static_cast<int>(::getpid()), "memory");
  ASSERT_TRUE(place.ok());
  const bool v1 = place->version == cg::Version::v1;
  const std::string limit_file = v1 ? "memory.limit_in_bytes" : "memory.max";
  const std::string before = *cg::read_value(memory.dir(), limit_file);
  const std::string quota_file = v1 ? "cpu.cfs_quota_us" : "cpu.max";
  const std::string quota_before = *cg::read_value(cpu.dir(), quota_file);

  GroupedSleeper app({&memory, &cpu});
  ASSERT_TRUE(app.in_place()) << app.cgroups();
  const std::string membership = app.cgroups();
  StressRun r;
  auto run = r.start("name: stress-scope\ntargets:\n" + app.target() +
                     "phases:\n  - name: on\n    duration: 8s\n    faults:\n"
                     "      - memory: { target: app, scope: target, size: 64MiB, for: 7s }\n"
                     "      - cpu: { target: app, scope: target, cores: 1, for: 7s }\n");
  ASSERT_TRUE(testing::wait_until([&] { return journal_events(r.journal, "fault.injected").size() == 2; }, 60s))
      << run->output();
  EXPECT_EQ(*cg::read_value(memory.dir(), limit_file), "67108864") << "the target's own group is limited";
  const auto workers = stress_ng_pids_of(run->pid(), "stress-ng-cpu");
  ASSERT_FALSE(workers.empty());
  const std::string cgroup_of_worker = testing::read_file("/proc/" + std::to_string(workers.front()) + "/cgroup");
  EXPECT_NE(cgroup_of_worker.find(cpu.name() + "\n"), std::string::npos)
      << "the burn runs in the target's CPU group: " << cgroup_of_worker;

  const auto code = run->wait(60s);
  ASSERT_TRUE(code.has_value()) << run->output();
  EXPECT_NE(run->output().find("faults: 2 injected, 2 reverted"), std::string::npos) << run->output();
  EXPECT_EQ(*cg::read_value(memory.dir(), limit_file), before) << "the original limit, exactly";
  EXPECT_EQ(*cg::read_value(cpu.dir(), quota_file), quota_before);
  EXPECT_EQ(app.cgroups(), membership) << "the target is in the groups it was in";
  EXPECT_EQ(cg::processes(cpu.dir()).size(), 1u) << "only the target is left in its CPU group";
  expect_nothing_left(r.io_dir);
}

TEST(StressFaults, AfterKillNineWhileOnRecoverStopsStressNgAndRestoresTheLimit) {
  if (auto why = testing::needs_root("stress-ng and cgroups"); !why.empty()) GTEST_SKIP() << why;
  TestGroup memory("memory");
  if (!memory.why_not().empty()) GTEST_SKIP() << memory.why_not();
  ASSERT_TRUE(stress_ng_pids().empty()) << "a stress-ng runs already";
  auto place = cg::of_process(static_cast<int>(::getpid()), "memory");
  ASSERT_TRUE(place.ok());
  const std::string limit_file = place->version == cg::Version::v1 ? "memory.soft_limit_in_bytes" : "memory.high";
  const std::string before = *cg::read_value(memory.dir(), limit_file);

  GroupedSleeper app({&memory});
  ASSERT_TRUE(app.in_place()) << app.cgroups();
  StressRun r;
  auto run = r.start("name: stress-crash\ntargets:\n" + app.target() +
                     "phases:\n  - name: on\n    duration: 60s\n    faults:\n"
                     "      - cpu: { target: app, cores: 1, load: 20%, for: 50s }\n"
                     "      - memory: { target: app, size: 64MiB, for: 50s }\n"
                     "      - memory: { target: app, scope: target, limit: high, size: 32MiB }\n"
                     "      - io_stress: { target: app, path: " +
                     r.io_dir + ", size: 8MiB, for: 50s }\n");
  ASSERT_TRUE(testing::wait_until([&] { return journal_events(r.journal, "fault.injected").size() == 4; }, 60s))
      << run->output();
  EXPECT_FALSE(stress_ng_pids().empty());
  EXPECT_EQ(*cg::read_value(memory.dir(), limit_file), "33554432");
  EXPECT_EQ(io_folders(r.io_dir).size(), 1u);
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  EXPECT_FALSE(stress_ng_pids().empty()) << "stress-ng outlives the runner (its timeout is the dead-man)";
  Child leftovers({bin("chaosplus"), "leftovers", "--state-dir", r.state});
  EXPECT_EQ(leftovers.wait(60s), 1) << leftovers.output();
  for (const char* what : {"stress-ng", "io_stress folder", "cgroup memory limit"}) {
    EXPECT_NE(leftovers.output().find(what), std::string::npos) << what << " not listed:\n" << leftovers.output();
  }

  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("cgroup.memory_limit"), std::string::npos) << recover.output();
  EXPECT_EQ(*cg::read_value(memory.dir(), limit_file), before) << "the original soft limit, from the ledger alone";
  expect_nothing_left(r.io_dir);
  auto ledger = runner::Ledger::open(runner::ledger_path(r.state));
  ASSERT_TRUE(ledger.ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "nothing left open";
}

// Without anyone to revert it, stress-ng stops by itself at the fault's end (--timeout: the dead-man).
TEST(StressFaults, AfterKillNineStressNgStopsByItselfAtTheFaultsEnd) {
  if (auto why = testing::needs_root("stress-ng"); !why.empty()) GTEST_SKIP() << why;
  ASSERT_TRUE(stress_ng_pids().empty()) << "a stress-ng runs already";
  StressRun r;
  auto run = r.start(
      "name: stress-deadman\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: on\n    duration: 30s\n    faults:\n"
      "      - cpu: { target: app, cores: 1, load: 10%, for: 2s }\n");
  ASSERT_TRUE(testing::wait_until([&] { return journal_events(r.journal, "fault.injected").size() == 1; }, 60s))
      << run->output();
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  EXPECT_TRUE(testing::wait_until([] { return stress_ng_pids().empty(); }, 30s)) << "stress-ng ran past its timeout";
  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  EXPECT_EQ(recover.wait(60s), 0) << recover.output();
}

// A memory limit on a group the target shares with chaosplus (a process it started inherits its
// group) would limit the runner too: the fault refuses, and nothing changes.
TEST(StressFaults, AMemoryLimitOnAGroupSharedWithChaosplusIsRefused) {
  if (auto why = testing::needs_root("cgroups"); !why.empty()) GTEST_SKIP() << why;
  auto ours = cg::of_process(static_cast<int>(::getpid()), "memory");
  if (!ours) GTEST_SKIP() << ours.error();
  const std::string text =
      "name: shared\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n"
      "      - memory: { target: app, scope: target, size: 64MiB }\n";
  auto loaded = spec::load_experiment_text(text, "shared.yaml");
  ASSERT_TRUE(loaded.ok());
  testing::TempDir dir;
  faults::TargetHandle handle(loaded.experiment->targets[0], dir.file("app.log"));
  auto id = targets::spawn(*handle.spec().process, handle.log_path());
  ASSERT_TRUE(id.ok()) << id.error();
  handle.set_process(*id);
  const std::string file = ours->version == cg::Version::v1 ? "memory.limit_in_bytes" : "memory.max";
  const auto before = cg::read_value(ours->dir(), file);
  auto fault = faults::make_fault(loaded.experiment->phases[0].faults[0], handle);
  ASSERT_FALSE(fault.ok());
  EXPECT_NE(fault.error().find(ours->root() ? "the root group" : "also chaosplus's own"), std::string::npos)
      << fault.error();
  if (before) {
    EXPECT_EQ(*cg::read_value(ours->dir(), file), *before);
  }
  (void)targets::stop(*id);
}

}  // namespace
}  // namespace chaosplus
