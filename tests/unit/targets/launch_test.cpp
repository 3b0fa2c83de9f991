#include "targets/launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "support/support.h"
#include "unit/targets/target_helpers.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::Listener;
using chaosplus::testing::read_file;
using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;
using chaosplus::testing::write_file;
using test::command;
using test::KillOnExit;
using test::sh;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs a short script to its end and returns its log.
std::string run_to_end(const spec::ProcessLaunch& launch, const TempDir& dir, const std::string& search_dir = {}) {
  const std::string log = dir.file("run.log");
  auto id = search_dir.empty() ? spawn(launch, log) : spawn(launch, log, search_dir);
  EXPECT_TRUE(id.ok()) << id.error();
  if (!id.ok()) return {};
  KillOnExit guard(*id);
  EXPECT_TRUE(wait_until([&] { return !is_alive(*id); }));
  return read_file(log);
}

TEST(Spawn, TheProcessRunsInItsOwnSession) {
  TempDir dir;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  // A Ctrl-C at the runner's terminal goes to the runner's session, not this one.
  EXPECT_EQ(::getsid(id->pid), id->pid);
  EXPECT_NE(::getsid(id->pid), ::getsid(0));
  EXPECT_EQ(::getpgid(id->pid), id->pid);
}

TEST(Spawn, TheIdentityCarriesTheStartTimeOfTheNewProcess) {
  TempDir dir;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  auto start = process_start_time(id->pid);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(id->start_time, *start);
  EXPECT_TRUE(is_alive(*id));
}

TEST(Spawn, StdoutAndStderrAreAppendedToTheLog) {
  TempDir dir;
  run_to_end(sh("echo first-out; echo first-err >&2"), dir);
  const std::string log = run_to_end(sh("echo second-out"), dir);
  EXPECT_TRUE(contains(log, "first-out\n")) << log;
  EXPECT_TRUE(contains(log, "first-err\n")) << log;
  EXPECT_TRUE(contains(log, "second-out\n")) << log;
}

TEST(Spawn, TheLogFolderIsCreated) {
  TempDir dir;
  const std::string log = dir.file("a/b/run.log");
  auto id = spawn(sh("echo hello"), log);
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  EXPECT_TRUE(wait_until([&] { return read_file(log) == "hello\n"; }));
}

TEST(Spawn, EnvironmentIsAddedToOurs) {
  TempDir dir;
  spec::ProcessLaunch launch = sh("echo \"added=$CHAOSPLUS_TEST_ADDED inherited=$CHAOSPLUS_TEST_INHERITED\"");
  launch.env["CHAOSPLUS_TEST_ADDED"] = "42";
  ::setenv("CHAOSPLUS_TEST_INHERITED", "yes", 1);
  const std::string log = run_to_end(launch, dir);
  ::unsetenv("CHAOSPLUS_TEST_INHERITED");
  EXPECT_EQ(log, "added=42 inherited=yes\n");
}

TEST(Spawn, AnAddedVariableReplacesAnInheritedOne) {
  TempDir dir;
  ::setenv("CHAOSPLUS_TEST_REPLACED", "old", 1);
  spec::ProcessLaunch launch = sh("env | grep CHAOSPLUS_TEST_REPLACED=");
  launch.env["CHAOSPLUS_TEST_REPLACED"] = "new";
  const std::string log = run_to_end(launch, dir);
  ::unsetenv("CHAOSPLUS_TEST_REPLACED");
  EXPECT_EQ(log, "CHAOSPLUS_TEST_REPLACED=new\n");
}

// Started set apart (faults/launch_prep.h): a file bound over another is seen by the process only,
// in a mount namespace of its own, and its sandbox variables come before the launch's LD_PRELOAD.
TEST(Spawn, ASandboxedProcessSeesItsBindsAndTheHostDoesNot) {
  TempDir dir;
  write_file(dir.file("host.txt"), "host\n");
  write_file(dir.file("mine.txt"), "mine\n");
  Sandbox sandbox;
  sandbox.private_mounts = true;
  sandbox.binds.push_back({dir.file("mine.txt"), dir.file("host.txt")});
  sandbox.env["LD_PRELOAD"] = "first.so";
  sandbox.env["CHAOSPLUS_TEST_SANDBOX"] = "yes";
  spec::ProcessLaunch launch =
      sh("cat " + dir.file("host.txt") + "; echo \"$CHAOSPLUS_TEST_SANDBOX $LD_PRELOAD\"; readlink /proc/self/ns/mnt");
  launch.env["LD_PRELOAD"] = "second.so";
  const std::string log = dir.file("run.log");
  auto id = spawn(launch, log, sandbox, {});
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  ASSERT_TRUE(wait_until([&] { return !is_alive(*id); }));
  const std::string out = read_file(log);
  char own[128] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", own, sizeof own - 1), 0);
  // The preloads do not exist; the loader says so on stderr and runs the program anyway.
  EXPECT_TRUE(contains(out, "mine\n")) << out;
  EXPECT_TRUE(contains(out, "yes first.so:second.so\n")) << out;
  EXPECT_FALSE(contains(out, std::string(own) + "\n")) << out;  // another mount namespace
  EXPECT_EQ(read_file(dir.file("host.txt")), "host\n");
}

TEST(Spawn, ABindOverAMissingFileIsAnErrorBeforeItRuns) {
  TempDir dir;
  write_file(dir.file("mine.txt"), "mine\n");
  Sandbox sandbox;
  sandbox.private_mounts = true;
  sandbox.binds.push_back({dir.file("mine.txt"), dir.file("missing.txt")});
  auto id = spawn(sh("echo ran"), dir.file("run.log"), sandbox, {});
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "its own mount namespace: ")) << id.error();
}

TEST(Spawn, TheProcessRunsInTheGivenDirectory) {
  TempDir dir;
  TempDir work;
  spec::ProcessLaunch launch = sh("pwd -P");
  launch.cwd = work.path();
  EXPECT_EQ(run_to_end(launch, dir), std::filesystem::canonical(work.path()).string() + "\n");
}

TEST(Spawn, StdinIsDevNull) {
  TempDir dir;
  EXPECT_EQ(run_to_end(sh("readlink /proc/$$/fd/0"), dir), "/dev/null\n");
}

TEST(Spawn, SignalMaskAndIgnoredSignalsAreReset) {
  TempDir dir;
  sigset_t block;
  sigset_t previous;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &block, &previous);
  struct sigaction ignore {};
  struct sigaction before {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGUSR1, &ignore, &before);
  // grep reads its own status: a shell's mask changes while it waits for children.
  const std::string log = run_to_end(command({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}), dir);
  ::sigaction(SIGUSR1, &before, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  EXPECT_TRUE(contains(log, "SigBlk:\t0000000000000000")) << log;
  // SIGUSR1 is signal 10: bit 9 of the ignored mask.
  const auto ign = log.find("SigIgn:\t");
  ASSERT_NE(ign, std::string::npos) << log;
  const unsigned long long ignored = std::stoull(log.substr(ign + 8, 16), nullptr, 16);
  EXPECT_EQ(ignored & (1ull << (SIGUSR1 - 1)), 0u) << log;
}

TEST(Spawn, DescriptorsOfTheRunnerAreNotInherited) {
  TempDir dir;
  const int leaky = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaky, 3);
  const std::string script = "test -e /proc/$$/fd/" + std::to_string(leaky) + " && echo leaked || echo clean";
  const std::string log = run_to_end(sh(script), dir);
  ::close(leaky);
  EXPECT_EQ(log, "clean\n");
}

TEST(Spawn, AMissingCommandSaysWhereItLooked) {
  TempDir dir;
  auto id = spawn(command({"chaosplus-no-such-program"}), dir.file("log"), dir.path());
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error(), "cannot start 'chaosplus-no-such-program': not found in " + dir.path() + " or PATH");
}

TEST(Spawn, AnEmptyCommandIsAnError) {
  TempDir dir;
  auto id = spawn({}, dir.file("log"));
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "empty")) << id.error();
}

TEST(Spawn, AMissingPathIsAnError) {
  TempDir dir;
  auto id = spawn(command({dir.file("nothing-here")}), dir.file("log"));
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "does not exist")) << id.error();
}

TEST(Spawn, ANonExecutableFileIsAnError) {
  TempDir dir;
  write_file(dir.file("script"), "#!/bin/sh\necho hi\n");
  ::chmod(dir.file("script").c_str(), 0644);
  auto id = spawn(command({dir.file("script")}), dir.file("log"));
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "not an executable file")) << id.error();
}

TEST(Spawn, AnExecFailureIsReportedNotSwallowed) {
  TempDir dir;
  // Executable bits but neither ELF nor "#!": execve fails with ENOEXEC in the child.
  write_file(dir.file("garbage"), std::string("\x01\x02\x03 not a program\n"));
  ::chmod(dir.file("garbage").c_str(), 0755);
  auto id = spawn(command({dir.file("garbage")}), dir.file("log"));
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "cannot start '" + dir.file("garbage") + "': exec")) << id.error();
  EXPECT_TRUE(contains(id.error(), "Exec format error")) << id.error();
}

TEST(Spawn, AMissingWorkingDirectoryIsAnError) {
  TempDir dir;
  spec::ProcessLaunch launch = command({"sleep", "30"});
  launch.cwd = dir.file("no-such-folder");
  auto id = spawn(launch, dir.file("log"));
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error(), "cannot change to directory " + launch.cwd)) << id.error();
}

TEST(Spawn, ARelativePathIsRelativeToTheWorkingDirectory) {
  TempDir dir;
  TempDir work;
  write_file(work.file("tool.sh"), "#!/bin/sh\necho relative-ok\n");
  ::chmod(work.file("tool.sh").c_str(), 0755);
  spec::ProcessLaunch launch = command({"./tool.sh"});
  launch.cwd = work.path();
  EXPECT_EQ(run_to_end(launch, dir), "relative-ok\n");
}

TEST(Spawn, BareNamesAreLookedUpInTheSearchFolderBeforePath) {
  TempDir dir;
  TempDir bin;
  // Shadows the system's "true" so the order of the lookup shows.
  write_file(bin.file("true"), "#!/bin/sh\necho from-search-folder\n");
  ::chmod(bin.file("true").c_str(), 0755);
  EXPECT_EQ(run_to_end(command({"true"}), dir, bin.path()), "from-search-folder\n");
}

TEST(Spawn, TheSearchFolderComesFromTheEnvironmentVariable) {
  TempDir bin;
  const char* before = std::getenv("CHAOSPLUS_BIN_DIR");
  const std::string saved = before != nullptr ? before : "";
  ::setenv("CHAOSPLUS_BIN_DIR", bin.path().c_str(), 1);
  EXPECT_EQ(default_search_dir(), bin.path());
  ::unsetenv("CHAOSPLUS_BIN_DIR");
  // Without it: the folder of the running executable (this test binary).
  EXPECT_EQ(default_search_dir(), std::filesystem::read_symlink("/proc/self/exe").parent_path().string());
  if (before != nullptr) ::setenv("CHAOSPLUS_BIN_DIR", saved.c_str(), 1);
}

TEST(FindExecutable, FallsBackToPath) {
  TempDir empty;
  auto path = find_executable("sh", empty.path());
  ASSERT_TRUE(path.ok()) << path.error();
  EXPECT_TRUE(path->ends_with("/sh")) << *path;
  EXPECT_EQ(path->front(), '/');
}

TEST(WaitReady, SucceedsWhenTheTcpPortAcceptsConnections) {
  TempDir dir;
  Listener listener;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  check.tcp = spec::Endpoint{"127.0.0.1", listener.port()};
  HaltSwitch halt;
  auto ready = wait_ready(check, *id, dir.file("log"), halt);
  EXPECT_TRUE(ready.ok()) << ready.error();
}

TEST(WaitReady, SucceedsWhenTheHttpCheckAnswers2xx) {
  TempDir dir;
  net::HttpServer server({}, [](const net::Request& request) {
    return request.path() == "/health" ? net::Response::text(204, "") : net::Response::text(404, "no");
  });
  ASSERT_TRUE(server.start().ok());
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  check.http_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/health";
  HaltSwitch halt;
  auto ready = wait_ready(check, *id, dir.file("log"), halt);
  EXPECT_TRUE(ready.ok()) << ready.error();
}

TEST(WaitReady, FailsWithTheLogTailWhenTheProcessExits) {
  TempDir dir;
  const std::string log = dir.file("log");
  auto id = spawn(sh("echo starting; echo 'fatal: port in use' >&2; exit 3"), log);
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  check.tcp = spec::Endpoint{"127.0.0.1", chaosplus::testing::free_port()};
  check.timeout = std::chrono::seconds(60);  // the exit, not the timeout, must end the wait
  HaltSwitch halt;
  auto ready = wait_ready(check, *id, log, halt);
  ASSERT_FALSE(ready.ok());
  EXPECT_TRUE(contains(ready.error(), "exited with code 3 before it was ready")) << ready.error();
  EXPECT_TRUE(contains(ready.error(), "fatal: port in use")) << ready.error();
  EXPECT_FALSE(is_alive(*id));
}

TEST(WaitReady, TimesOutWithTheLastCheckError) {
  TempDir dir;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  const int port = chaosplus::testing::free_port();
  check.tcp = spec::Endpoint{"127.0.0.1", port};
  check.timeout = std::chrono::milliseconds(300);
  HaltSwitch halt;
  auto ready = wait_ready(check, *id, dir.file("log"), halt);
  ASSERT_FALSE(ready.ok());
  EXPECT_TRUE(contains(ready.error(), "was not ready after 300ms")) << ready.error();
  EXPECT_TRUE(contains(ready.error(), "127.0.0.1:" + std::to_string(port))) << ready.error();
}

TEST(WaitReady, StopsWhenTheHaltSwitchIsTriggered) {
  TempDir dir;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  check.tcp = spec::Endpoint{"127.0.0.1", chaosplus::testing::free_port()};
  check.timeout = std::chrono::seconds(60);
  HaltSwitch halt;
  halt.trigger("operator pressed Ctrl-C");
  auto ready = wait_ready(check, *id, dir.file("log"), halt);
  ASSERT_FALSE(ready.ok());
  EXPECT_TRUE(contains(ready.error(), "halted")) << ready.error();
  EXPECT_TRUE(contains(ready.error(), "operator pressed Ctrl-C")) << ready.error();
}

TEST(CheckNotAnsweredBeforeStart, AnHttpCheckThatAnotherServerAlreadyPassesIsAnError) {
  net::HttpServer server({}, [](const net::Request&) { return net::Response::text(200, "someone else"); });
  ASSERT_TRUE(server.start().ok());
  spec::ReadyCheck check;
  check.http_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/health";
  auto status = check_not_answered_before_start(check, "target 'shop'");
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error(), "the ready check (" + check.http_url + ") already passes before target 'shop'"))
      << status.error();
  EXPECT_TRUE(contains(status.error(), "give target 'shop' another port")) << status.error();
}

TEST(CheckNotAnsweredBeforeStart, ATcpCheckOnAListeningPortIsAnError) {
  Listener listener;
  spec::ReadyCheck check;
  check.tcp = spec::Endpoint{"127.0.0.1", listener.port()};
  auto status = check_not_answered_before_start(check, "target 'db'");
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error(), "(127.0.0.1:" + std::to_string(listener.port()) + ") already passes"))
      << status.error();
}

TEST(CheckNotAnsweredBeforeStart, AFreePortAnAnswerThatFailsTheCheckAndACommandCheckPass) {
  spec::ReadyCheck free;
  free.tcp = spec::Endpoint{"127.0.0.1", chaosplus::testing::free_port()};
  EXPECT_TRUE(check_not_answered_before_start(free, "t").ok());

  // Something answers, but not what the check wants: the check cannot pass without the target.
  net::HttpServer server({}, [](const net::Request&) { return net::Response::text(503, "not me"); });
  ASSERT_TRUE(server.start().ok());
  spec::ReadyCheck failing;
  failing.http_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/health";
  EXPECT_TRUE(check_not_answered_before_start(failing, "t").ok());

  spec::ReadyCheck by_command;
  by_command.command = {"true"};  // not tried: a command may pass for reasons of its own
  EXPECT_TRUE(check_not_answered_before_start(by_command, "t").ok());
}

TEST(WaitReady, ABadUrlIsAnError) {
  TempDir dir;
  auto id = spawn(command({"sleep", "30"}), dir.file("log"));
  ASSERT_TRUE(id.ok()) << id.error();
  KillOnExit guard(*id);
  spec::ReadyCheck check;
  check.http_url = "not a url";
  HaltSwitch halt;
  auto ready = wait_ready(check, *id, dir.file("log"), halt);
  ASSERT_FALSE(ready.ok());
  EXPECT_TRUE(contains(ready.error(), "ready check")) << ready.error();
}

TEST(LogTail, KeepsTheLastLines) {
  TempDir dir;
  std::string text;
  for (int i = 1; i <= 30; ++i) text += "line " + std::to_string(i) + "\n";
  write_file(dir.file("log"), text);
  EXPECT_EQ(log_tail(dir.file("log"), 3), "line 28\nline 29\nline 30");
}

TEST(LogTail, DropsAPartialFirstLineWhenCut) {
  TempDir dir;
  write_file(dir.file("log"), std::string(100, 'x') + "\nlast\n");
  EXPECT_EQ(log_tail(dir.file("log"), 20, 10), "last");
}

TEST(LogTail, AMissingLogIsEmpty) { EXPECT_EQ(log_tail("/nonexistent/chaosplus.log"), ""); }

}  // namespace
}  // namespace chaosplus::targets
