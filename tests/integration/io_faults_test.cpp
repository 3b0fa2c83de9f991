// I/O faults on a real program (experiments/sqlite-io-errors.yaml): a started target that runs the
// `sqlite3` command in a loop on a database under a folder (one connection per statement, so every statement opens the
// files after the inject) reports "disk I/O error" while `io_error` fails its writes, and succeeds again after the
// revert; the host (this test and the run's own probe) reads and writes the same folder meanwhile without an error. The
// target's mount table reads as before after the revert, also when the revert is `chaosplus recover` after a kill -9 of
// the runner (and of the file system's daemon), or an undo from the ledger record alone.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "iofs/mounts.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "spec/loader.h"
#include "support/journal.h"
#include "support/postgres_instance.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;

constexpr const char* kFsType = "fuse.chaosplus-iofs";

// The mount points whose lines differ between two readings of a mountinfo file.
std::set<std::string> changed_points(const std::string& before, const std::string& after) {
  auto lines = [](const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.insert(line);
    return out;
  };
  auto point = [](const std::string& line) {
    std::istringstream fields(line);
    std::string w;
    for (int i = 0; i < 5; ++i) fields >> w;
    return w;
  };
  const auto a = lines(before), b = lines(after);
  std::set<std::string> out;
  for (const auto& l : a) {
    if (!b.contains(l)) out.insert(point(l));
  }
  for (const auto& l : b) {
    if (!a.contains(l)) out.insert(point(l));
  }
  return out;
}

// The target's mount table must read as before. The target's namespace is a slave of the host's,
// so a mount another program makes on the host meanwhile shows in both: those are told apart by
// the host's own table changing the same way over the same time.
void expect_same_mounts(const std::string& target_before, const std::string& target_after,
                        const std::string& host_before, const std::string& host_after) {
  const auto host = changed_points(host_before, host_after);
  for (const auto& point : changed_points(target_before, target_after)) {
    EXPECT_TRUE(host.contains(point)) << "the target's mount table changed at " << point << "\nbefore:\n"
                                      << target_before << "\nafter:\n"
                                      << target_after;
  }
  EXPECT_EQ(target_after.find(kFsType), std::string::npos) << target_after;
}

// The `chaosplus iofs` daemons serving `target_pid`.
std::vector<int> daemons_of(int target_pid) {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = testing::read_file("/proc/" + name + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(" iofs --pid " + std::to_string(target_pid) + " ") != std::string::npos &&
        testing::process_state(std::stoi(name)) != 'Z') {
      out.push_back(std::stoi(name));
    }
  }
  return out;
}

// A write and an fsync of a new file in `dir`, and a read of every file there: what the host does.
std::string host_uses(const std::string& dir) {
  const std::string path = dir + "/host-" + std::to_string(::getpid()) + ".txt";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  const bool wrote = ::write(fd, "x\n", 2) == 2 && ::fsync(fd) == 0;
  const int e = errno;
  ::close(fd);
  if (!wrote) return "write " + path + ": " + std::strerror(e);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    // Files come and go (SQLite's journal): one gone before it is opened is not a failure.
    const int in = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0 && errno == ENOENT) continue;
    if (in < 0) return "open " + entry.path().string() + ": " + std::strerror(errno);
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(in, buf, sizeof buf)) > 0) {
    }
    const int read_errno = errno;
    ::close(in);
    if (n < 0) return "read " + entry.path().string() + ": " + std::strerror(read_errno);
  }
  return "";
}

// experiments/sqlite-io-errors.yaml as written: the sqlite3 command in a loop, one connection per
// statement, each result a line of `out` (outside the folder).
struct IoRun {
  testing::TempDir dir;
  std::string data = dir.file("data");
  std::string out = dir.file("results.txt");
  std::string state = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::string phase;

  explicit IoRun(std::string phase_length) : phase(std::move(phase_length)) {}

  std::unique_ptr<Child> start() {
    return std::make_unique<Child>(
        std::vector<std::string>{bin("chaosplus"), "run", testing::source_path("experiments/sqlite-io-errors.yaml"),
                                 "--plain", "--state-dir", state, "--journal", journal},
        std::map<std::string, std::string>{{"IO_DIR", data}, {"IO_RESULTS", out}, {"PHASE", phase}});
  }

  int target_pid() const {
    const auto started = journal_events(journal, "target.started");
    return started.empty() ? 0 : started[0].value("pid", 0);
  }
};

TEST(IoFaults, SqliteReportsADiskIoErrorDuringThePhaseAndWorksAfterTheRevertWhileTheHostSeesNothing) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  IoRun r("3s");
  const std::string host_before = iofs::mountinfo_text(0);
  auto run = r.start();
  ASSERT_TRUE(testing::wait_until([&] { return r.target_pid() != 0; }, 60s)) << run->output();
  const int pid = r.target_pid();
  const std::string target_before = iofs::mountinfo_text(pid);
  ASSERT_TRUE(journal_events(r.journal, "fault.injected").empty()) << "the snapshot before came too late";
  ASSERT_FALSE(target_before.empty());

  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.injected").empty(); }, 60s))
      << run->output();
  EXPECT_TRUE(iofs::iofs_on_top(pid, r.data)) << iofs::mountinfo_text(pid);
  EXPECT_EQ(iofs::mountinfo_text(0).find(kFsType), std::string::npos) << "the host never sees the mount";
  EXPECT_EQ(host_uses(r.data), "") << "the host writes, syncs and reads the folder during the fault";
  ASSERT_TRUE(
      testing::wait_until([&] { return testing::read_file(r.out).find("disk I/O error") != std::string::npos; }, 30s))
      << testing::read_file(r.out);

  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.reverted").empty(); }, 60s))
      << run->output();
  const std::string target_after = iofs::mountinfo_text(pid);
  const std::string host_after = iofs::mountinfo_text(0);
  expect_same_mounts(target_before, target_after, host_before, host_after);

  const auto code = run->wait(120s);
  ASSERT_TRUE(code.has_value()) << run->output();
  EXPECT_EQ(*code, 0) << "held: the host's probe on the same folder never failed\n" << run->output();
  const auto reverted = journal_events(r.journal, "fault.reverted");
  ASSERT_EQ(reverted.size(), 1u);
  EXPECT_TRUE(reverted[0].value("ok", false)) << reverted[0].dump();
  EXPECT_GT(reverted[0].value("reach.calls_failed", 0), 0) << reverted[0].dump();
  EXPECT_EQ(reverted[0].value("reach.calls_failed", 0), reverted[0].value("reach.calls", -1))
      << "share 100%: every write and fsync picked failed\n"
      << reverted[0].dump();
  std::cout << "[ figures ] fault.reverted: " << reverted[0].value("reach.calls", 0) << " write/fsync calls picked, "
            << reverted[0].value("reach.calls_failed", 0) << " failed\n";
  EXPECT_TRUE(daemons_of(pid).empty()) << "the file system's daemon is gone";

  // The program's own account: it worked, failed with SQLite's I/O error while the fault was on,
  // and worked again after the revert.
  const auto lines = testing::read_lines(r.out);
  int first_fail = -1, last_fail = -1, oks_before = 0, oks_after = 0;
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    if (lines[i].starts_with("fail")) {
      if (first_fail < 0) first_fail = i;
      last_fail = i;
      EXPECT_NE(lines[i].find("disk I/O error"), std::string::npos) << lines[i];
    }
  }
  ASSERT_GE(first_fail, 0);
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    if (lines[i].starts_with("ok") && i < first_fail) ++oks_before;
    if (lines[i].starts_with("ok") && i > last_fail) ++oks_after;
  }
  EXPECT_GT(oks_before, 0);
  EXPECT_GT(oks_after, 0) << "the same program works again after the revert";
  std::cout << "[ figures ] statements: " << oks_before << " ok before, " << (last_fail - first_fail + 1)
            << " during (first: " << lines[first_fail] << "), " << oks_after << " ok after\n";
  Child check({"sqlite3", r.data + "/app.db", "PRAGMA integrity_check"});
  check.wait(30s);
  EXPECT_EQ(check.output(), "ok\n");
}

TEST(IoFaults, AfterKillNineOfTheRunnerAndOfTheDaemonRecoverTakesTheMountOff) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  IoRun r("60s");
  auto run = r.start();
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.injected").empty(); }, 60s))
      << run->output();
  const int pid = r.target_pid();
  ASSERT_TRUE(iofs::iofs_on_top(pid, r.data));
  const auto daemons = daemons_of(pid);
  ASSERT_EQ(daemons.size(), 1u);
  // The daemon first, so it cannot take its mount off itself when it sees the runner gone: the
  // target is left with a dead mount ("Transport endpoint is not connected") for recover to remove.
  ::kill(daemons[0], SIGKILL);
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  ASSERT_TRUE(testing::wait_until([&] { return testing::pid_gone(daemons[0]); }, 10s));
  ASSERT_TRUE(iofs::iofs_on_top(pid, r.data)) << "the dead mount is still there";

  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("io.fuse"), std::string::npos) << recover.output();
  // recover stops the processes the run started too; if the target is still there, its folder is bare.
  EXPECT_TRUE(testing::pid_gone(pid) || !iofs::iofs_on_top(pid, r.data)) << iofs::mountinfo_text(pid);
  EXPECT_TRUE(daemons_of(pid).empty());
  auto ledger = runner::Ledger::open(runner::ledger_path(r.state));
  ASSERT_TRUE(ledger.ok());
  auto open = (*ledger)->open_entries();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "nothing left open";
}

TEST(IoFaults, AfterKillNineOfTheRunnerTheDaemonTakesItsMountOffAndRecoverFindsItDone) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  IoRun r("60s");
  auto run = r.start();
  ASSERT_TRUE(testing::wait_until([&] { return !journal_events(r.journal, "fault.injected").empty(); }, 60s))
      << run->output();
  const int pid = r.target_pid();
  const auto daemons = daemons_of(pid);
  ASSERT_EQ(daemons.size(), 1u);
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  EXPECT_TRUE(testing::wait_until([&] { return !iofs::iofs_on_top(pid, r.data); }, 10s))
      << "nothing runs on after the runner: the daemon takes its mount off";
  EXPECT_TRUE(testing::wait_until([&] { return testing::pid_gone(daemons[0]); }, 10s));
  Child recover({bin("chaosplus"), "recover", "--state-dir", r.state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_TRUE(testing::pid_gone(pid) || !iofs::iofs_on_top(pid, r.data));
}

// In process: the fault on a sandboxed `sleep`, reverted by revert(), and by undo() from the record
// alone after its daemon was killed; the target's mount table exactly as before both times.
struct Sandboxed {
  testing::TempDir dir;
  std::string data = dir.file("data");
  faults::TargetHandle handle;
  Sandboxed() : handle(target(), dir.file("app.log")) {
    std::filesystem::create_directory(data);
    targets::Sandbox sandbox;
    sandbox.private_mounts = true;
    auto id = targets::spawn(*handle.spec().process, handle.log_path(), sandbox, {});
    EXPECT_TRUE(id.ok()) << id.error();
    if (id) handle.set_process(*id);
    handle.state_dir = dir.path();
  }
  ~Sandboxed() {
    if (auto id = handle.process()) (void)targets::stop(*id);
  }
  static spec::Target target() {
    spec::Target t;
    t.name = "app";
    spec::ProcessLaunch launch;
    launch.command = {"sleep", "600"};
    t.process = launch;
    return t;
  }
  spec::Fault loaded(const std::string& settings) const {
    const std::string text =
        "name: io\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
        "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - " +
        settings + "\n";
    auto result = spec::load_experiment_text(text, "io.yaml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    EXPECT_TRUE(result.ok()) << errors;
    return result.ok() ? result.experiment->phases[0].faults[0] : spec::Fault{};
  }
  // Runs `script` inside the target's mount namespace (nsenter), returning its output.
  std::string inside(const std::string& script) const {
    Child c({"nsenter", "-t", std::to_string(handle.process()->pid), "-m", "sh", "-c", script});
    c.wait(30s);
    return c.output();
  }
};

TEST(IoFaults, InjectAndRevertAndUndoFromTheRecordLeaveTheMountTableAsItWas) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  Sandboxed s;
  const int pid = s.handle.process()->pid;
  testing::write_file(s.data + "/a.txt", "hello\n");
  const std::string before = iofs::mountinfo_text(pid);
  const std::string host_before = iofs::mountinfo_text(0);
  HaltSwitch halt;

  auto fault = faults::make_fault(
      s.loaded("io_error: { target: app, path: " + s.data + ", errno: ENOSPC, operations: write, files: \"*.txt\" }"),
      s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  EXPECT_EQ((*fault)->kind(), "io.fuse");
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(s.inside("cat " + s.data + "/a.txt"), "hello\n") << "reads pass through";
  // dd says which error its write got (a shell's echo says "I/O error" for any).
  const std::string wrote =
      s.inside("echo more | dd of=" + s.data + "/a.txt oflag=append conv=notrunc status=none && echo wrote");
  EXPECT_NE(wrote.find("No space left on device"), std::string::npos) << wrote;
  EXPECT_NE(s.inside("echo more > " + s.data + "/b.bin && echo wrote").find("wrote"), std::string::npos)
      << "files that do not match the glob pass through";
  auto again = faults::make_fault(s.loaded("io_latency: { target: app, path: " + s.data + ", delay: 10ms }"), s.handle);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("one I/O fault per folder"), std::string::npos) << again.error();
  ASSERT_TRUE((*fault)->revert(halt).ok());
  ASSERT_TRUE((*fault)->revert(halt).ok()) << "idempotent";
  expect_same_mounts(before, iofs::mountinfo_text(pid), host_before, iofs::mountinfo_text(0));
  EXPECT_EQ(testing::read_file(s.data + "/a.txt"), "hello\n");
  EXPECT_NE(s.inside("echo more >> " + s.data + "/a.txt && echo wrote").find("wrote"), std::string::npos);

  // Crash: the daemon is killed with its mount on; the record alone takes the mount off.
  auto second = faults::make_fault(s.loaded("io_latency: { target: app, path: " + s.data + ", delay: 1ms }"), s.handle);
  ASSERT_TRUE(second.ok()) << second.error();
  ASSERT_TRUE((*second)->inject(halt).ok());
  const std::string record = (*second)->record();
  const auto r = nlohmann::json::parse(record);
  ASSERT_GT(r.value("tool_pid", 0), 0) << record;
  ::kill(r.value("tool_pid", 0), SIGKILL);
  ASSERT_TRUE(testing::wait_until([&] { return testing::pid_gone(r.value("tool_pid", 0)); }, 10s));
  EXPECT_NE(s.inside("cat " + s.data + "/a.txt").find("not connected"), std::string::npos)
      << "a dead daemon leaves the target a broken folder: why revert must unmount";
  ASSERT_TRUE(faults::undo("io.fuse", record).ok());
  expect_same_mounts(before, iofs::mountinfo_text(pid), host_before, iofs::mountinfo_text(0));
  EXPECT_EQ(s.inside("cat " + s.data + "/a.txt"), "hello\nmore\n");
}

// io_latency holds each chosen call at least `delay` (a lower bound, so no timing flakiness), and
// a share of 50% fails some calls and lets others through.
TEST(IoFaults, LatencyHoldsTheChosenCallsAndAShareFailsSomeOfThem) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  Sandboxed s;
  HaltSwitch halt;
  auto slow = faults::make_fault(
      s.loaded("io_latency: { target: app, path: " + s.data + ", delay: 400ms, operations: fsync }"), s.handle);
  ASSERT_TRUE(slow.ok()) << slow.error();
  ASSERT_TRUE((*slow)->inject(halt).ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NE(s.inside("echo x | dd of=" + s.data + "/f.txt conv=fsync status=none && echo synced").find("synced"),
            std::string::npos);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 400ms) << "the fsync was held";
  ASSERT_TRUE((*slow)->revert(halt).ok());

  auto half = faults::make_fault(
      s.loaded("io_error: { target: app, path: " + s.data + ", operations: write, share: 50% }"), s.handle);
  ASSERT_TRUE(half.ok()) << half.error();
  ASSERT_TRUE((*half)->inject(halt).ok());
  // 200 writes: all passing or all failing would happen with a chance of 2^-199.
  const std::string counts = s.inside(
      "ok=0; bad=0; i=0; while [ $i -lt 200 ]; do i=$((i+1)); "
      "if echo x | dd of=" +
      s.data +
      "/g.txt oflag=append conv=notrunc status=none 2>/dev/null; "
      "then ok=$((ok+1)); else bad=$((bad+1)); fi; done; echo \"$ok $bad\"");
  ASSERT_TRUE((*half)->revert(halt).ok());
  int ok = 0, bad = 0;
  std::istringstream(counts) >> ok >> bad;
  EXPECT_EQ(ok + bad, 200) << counts;
  EXPECT_GT(ok, 0) << counts;
  EXPECT_GT(bad, 0) << counts;
  std::cout << "[ figures ] share 50%: " << bad << " of 200 writes failed\n";
}

// A path through a symbolic link is mounted where the link leads, as the mount table names it.
TEST(IoFaults, APathThroughASymbolicLinkIsMountedWhereItLeads) {
  if (auto why = testing::needs_root("FUSE mounts in a mount namespace"); !why.empty()) GTEST_SKIP() << why;
  Sandboxed s;
  const std::string link = s.dir.file("link");
  std::filesystem::create_directory_symlink(s.data, link);
  testing::write_file(s.data + "/a.txt", "x");
  HaltSwitch halt;
  auto fault =
      faults::make_fault(s.loaded("io_error: { target: app, path: " + link + ", operations: open }"), s.handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_TRUE(iofs::iofs_on_top(s.handle.process()->pid, s.data));
  EXPECT_NE(s.inside("cat " + link + "/a.txt").find("Input/output error"), std::string::npos);
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_FALSE(iofs::iofs_on_top(s.handle.process()->pid, s.data));
}

// The newest PostgreSQL server binary; "" when none.
std::string postgres_binary() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin" / "postgres";
    if (std::filesystem::exists(bin) && (best.empty() || bin.string() > best)) best = bin.string();
  }
  return best;
}

// A real database: PostgreSQL, started set apart as a run starts its targets, with an io_error on
// the opens under its data folder's `base` (its tables). Not the data folder itself: the server
// works in it (its working directory, opened before the mount) by relative paths, which the mount
// over that very folder never sees; one over a folder inside it, it does. A new connection (which opens the catalog's
// files) or a new table (a new file) gets PostgreSQL's own I/O error during the fault; after the revert the same
// statements work, and the server never went down.
TEST(IoFaults, PostgresReportsAnIoErrorDuringTheFaultAndWorksAfterTheRevert) {
  if (auto why = testing::PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  testing::PostgresInstance pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  ASSERT_TRUE(pg.stop("fast"));
  // The same data folder and port, now served by a postmaster in a mount namespace of its own.
  spec::Target t;
  t.name = "db";
  spec::ProcessLaunch launch;
  launch.command = {"runuser",
                    "-u",
                    "postgres",
                    "--",
                    postgres_binary(),
                    "-D",
                    pg.data_dir(),
                    "-p",
                    std::to_string(pg.port()),
                    "-c",
                    "listen_addresses=" + pg.address(),
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off"};
  t.process = launch;
  testing::TempDir dir;
  faults::TargetHandle handle(t, dir.file("db.log"));
  handle.state_dir = dir.path();
  targets::Sandbox sandbox;
  sandbox.private_mounts = true;
  auto id = targets::spawn(launch, handle.log_path(), sandbox, {});
  ASSERT_TRUE(id.ok()) << id.error();
  handle.set_process(*id);
  struct StopTarget {
    targets::ProcessId id;
    ~StopTarget() { (void)targets::stop(id); }
  } stop_target{*id};
  ASSERT_TRUE(testing::wait_until([&] { return pg.psql("SELECT 1") == "1"; }, 60s))
      << testing::read_file(handle.log_path());
  ASSERT_EQ(pg.psql("CREATE TABLE before_fault (a int); INSERT INTO before_fault VALUES (1); SELECT count(*) FROM "
                    "before_fault"),
            "1");

  const std::string text =
      "name: io\ntargets:\n  db: { process: { command: [postgres] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - io_error: { target: db, "
      "path: " +
      pg.data_dir() + "/base, errno: EIO, operations: open }\n";
  auto loaded = spec::load_experiment_text(text, "io.yaml");
  ASSERT_TRUE(loaded.ok());
  HaltSwitch halt;
  auto fault = faults::make_fault(loaded.experiment->phases[0].faults[0], handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  ASSERT_TRUE((*fault)->inject(halt).ok());
  const std::string during = pg.psql("CREATE TABLE during_fault (a int)");
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_NE(during.find("Input/output error"), std::string::npos) << during;
  std::cout << "[ figures ] PostgreSQL during the fault: " << during.substr(0, 200) << "\n";

  EXPECT_TRUE(targets::is_alive(*id)) << "the server stayed up\n" << testing::read_file(handle.log_path());
  EXPECT_EQ(pg.psql("CREATE TABLE after_fault (a int); INSERT INTO after_fault VALUES (2); SELECT count(*) FROM "
                    "after_fault"),
            "1");
  EXPECT_EQ(pg.psql("SELECT count(*) FROM before_fault"), "1");
}

TEST(IoFaults, ATargetInTheHostsMountNamespaceIsRefused) {
  testing::TempDir dir;
  faults::TargetHandle handle(Sandboxed::target(), dir.file("app.log"));
  auto id = targets::spawn(*handle.spec().process, handle.log_path());
  ASSERT_TRUE(id.ok()) << id.error();
  handle.set_process(*id);
  const std::string text =
      "name: io\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - io_error: { target: app, path: " +
      dir.path() + " }\n";
  auto loaded = spec::load_experiment_text(text, "io.yaml");
  ASSERT_TRUE(loaded.ok());
  auto fault = faults::make_fault(loaded.experiment->phases[0].faults[0], handle);
  (void)targets::stop(*id);
  ASSERT_FALSE(fault.ok());
  EXPECT_NE(fault.error().find("shares the host's mount namespace"), std::string::npos) << fault.error();
}

}  // namespace
}  // namespace chaosplus
