#include "targets/attach.h"

#include <unistd.h>

#include <climits>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "support/support.h"
#include "unit/targets/target_helpers.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::TempDir;
using chaosplus::testing::write_file;
using test::command;
using test::KillOnExit;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A name no other process on the machine has: `prefix` plus random hex, `length` characters.
std::string unique_name(const std::string& prefix, std::size_t length) {
  std::random_device device;
  std::mt19937_64 random(device());
  std::string name = prefix;
  while (name.size() < length) name += "0123456789abcdef"[random() % 16];
  return name;
}

// A copy of sleep under another name: the kernel names the process after the executable's file.
std::string sleep_named(const TempDir& dir, const std::string& name) {
  auto sleep = find_executable("sleep", {});
  EXPECT_TRUE(sleep.ok()) << sleep.error();
  const std::string copy = dir.file(name);
  std::filesystem::copy_file(*sleep, copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  return copy;
}

spec::ProcessAttach by_pid(int pid) {
  spec::ProcessAttach attach;
  attach.pid = pid;
  return attach;
}

ProcessId start(const std::string& path, const TempDir& dir) {
  auto id = spawn(command({path, "30"}), dir.file(std::filesystem::path(path).filename().string() + ".log"));
  EXPECT_TRUE(id.ok()) << id.error();
  return id.ok() ? *id : ProcessId{};
}

TEST(Resolve, ByPidFindsTheProcess) {
  TempDir dir;
  const ProcessId id = start(sleep_named(dir, unique_name("cp-pid-", 15)), dir);
  KillOnExit guard(id);
  auto found = resolve(by_pid(id.pid));
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, ByPidOfAMissingProcessIsAnError) {
  auto found = resolve(by_pid(INT_MAX));
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error(), "no running process with pid " + std::to_string(INT_MAX));
}

TEST(Resolve, ByPidfileReadsThePid) {
  TempDir dir;
  const ProcessId id = start(sleep_named(dir, unique_name("cp-file-", 15)), dir);
  KillOnExit guard(id);
  write_file(dir.file("app.pid"), " " + std::to_string(id.pid) + "\n");
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("app.pid");
  auto found = resolve(attach);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, APidfileWithoutAPidIsAnError) {
  TempDir dir;
  write_file(dir.file("app.pid"), "12ab\n");
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("app.pid");
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(contains(found.error(), "does not hold a pid (found '12ab')")) << found.error();
}

TEST(Resolve, AMissingPidfileIsAnError) {
  TempDir dir;
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("absent.pid");
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error(), "cannot read pidfile " + attach.pidfile);
}

TEST(Resolve, APidfileNamingADeadProcessSaysSo) {
  TempDir dir;
  write_file(dir.file("stale.pid"), std::to_string(INT_MAX) + "\n");
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("stale.pid");
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(contains(found.error(), "from pidfile " + attach.pidfile)) << found.error();
}

TEST(Resolve, ByNameFindsTheOnlyMatch) {
  TempDir dir;
  const std::string name = unique_name("cp-name-", 15);
  const ProcessId id = start(sleep_named(dir, name), dir);
  KillOnExit guard(id);
  spec::ProcessAttach attach;
  attach.name = name;
  auto found = resolve(attach);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, ByNameWithTwoMatchesListsThem) {
  TempDir dir;
  const std::string name = unique_name("cp-two-", 15);
  const std::string path = sleep_named(dir, name);
  const ProcessId first = start(path, dir);
  KillOnExit first_guard(first);
  const ProcessId second = start(path, dir);
  KillOnExit second_guard(second);
  spec::ProcessAttach attach;
  attach.name = name;
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(contains(found.error(), "2 processes are named '" + name + "'")) << found.error();
  EXPECT_TRUE(contains(found.error(), std::to_string(first.pid))) << found.error();
  EXPECT_TRUE(contains(found.error(), std::to_string(second.pid))) << found.error();
}

TEST(Resolve, ByNameWithoutAMatchSaysSo) {
  spec::ProcessAttach attach;
  attach.name = unique_name("cp-none-", 15);
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error(), "no running process named '" + attach.name + "'");
}

TEST(Resolve, ByNameIsExactNotAPrefix) {
  TempDir dir;
  const std::string name = unique_name("cp-exact-", 15);
  const ProcessId id = start(sleep_named(dir, name), dir);
  KillOnExit guard(id);
  spec::ProcessAttach attach;
  attach.name = name.substr(0, 12);
  EXPECT_FALSE(resolve(attach).ok());
}

TEST(Resolve, ANameLongerThanTheKernelKeepsMatchesTheExecutable) {
  TempDir dir;
  const std::string name = unique_name("cp-long-name-", 24);  // comm keeps only 15 characters
  const ProcessId id = start(sleep_named(dir, name), dir);
  KillOnExit guard(id);
  ASSERT_EQ(process_name(id.pid), name.substr(0, 15));
  spec::ProcessAttach attach;
  attach.name = name;
  auto found = resolve(attach);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, ExactlyOneWayToFindTheProcessIsRequired) {
  auto none = resolve({});
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(contains(none.error(), "exactly one of pid, pidfile, name, pid_command, pid_url")) << none.error();
  spec::ProcessAttach both;
  both.pid = static_cast<int>(::getpid());
  both.name = "x";
  EXPECT_FALSE(resolve(both).ok());
}

TEST(Resolve, ByPidfileTakesTheFirstLineOfALongerFile) {
  // PostgreSQL's postmaster.pid: the pid, then the data directory, start time, port, socket dir...
  TempDir dir;
  const ProcessId id = start(sleep_named(dir, unique_name("cp-pg-", 15)), dir);
  KillOnExit guard(id);
  write_file(dir.file("postmaster.pid"), std::to_string(id.pid) +
                                             "\n/var/lib/postgresql/15/main\n1733450000\n5432\n/var/run/postgresql\n"
                                             "127.0.0.1\n  5432001         0\nready   \n");
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("postmaster.pid");
  auto found = resolve(attach);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, APidfileWhoseFirstLineIsNotAPidIsAnError) {
  TempDir dir;
  write_file(dir.file("app.pid"), "\n" + std::to_string(::getpid()) + "\n");
  spec::ProcessAttach attach;
  attach.pidfile = dir.file("app.pid");
  auto found = resolve(attach);
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(contains(found.error(), "first line")) << found.error();
}

spec::ProcessAttach by_command(std::vector<std::string> argv) {
  spec::ProcessAttach attach;
  attach.pid_command = std::move(argv);
  return attach;
}

TEST(Resolve, ByPidCommandTakesThePidItPrints) {
  TempDir dir;
  const std::string name = unique_name("cp-cmd-", 15);
  const ProcessId id = start(sleep_named(dir, name), dir);
  KillOnExit guard(id);
  auto found = resolve(by_command({"pgrep", "-x", name}));
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, APidCommandMustPrintExactlyOnePid) {
  auto nothing = resolve(by_command({"true"}));
  ASSERT_FALSE(nothing.ok());
  EXPECT_TRUE(contains(nothing.error(), "pid_command 'true' printed nothing, expected one pid")) << nothing.error();

  auto two = resolve(by_command({"echo", "12\n34"}));
  ASSERT_FALSE(two.ok());
  EXPECT_TRUE(contains(two.error(), "expected one pid")) << two.error();
  EXPECT_TRUE(contains(two.error(), "12")) << two.error();

  // Not run through a shell: the $ and ; are the program's arguments, printed back verbatim.
  auto words = resolve(by_command({"echo", "$$;", "1"}));
  ASSERT_FALSE(words.ok());
  EXPECT_TRUE(contains(words.error(), "'$$; 1'")) << words.error();
}

TEST(Resolve, AFailingPidCommandSaysHowItFailed) {
  auto failed = resolve(by_command({"sh", "-c", "echo no such service >&2; exit 1"}));
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(contains(failed.error(), "exited with 1")) << failed.error();
  EXPECT_TRUE(contains(failed.error(), "no such service")) << failed.error();

  auto missing = resolve(by_command({"/nonexistent/chaosplus-pid-tool"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error(), "pid_command")) << missing.error();
}

// A loopback HTTP server answering every request with `body` and `status`.
struct PidServer {
  net::HttpServer server;
  PidServer(int status, std::string body)
      : server({}, [status, body](const net::Request&) { return net::Response::json(status, body); }) {
    auto s = server.start();
    EXPECT_TRUE(s.ok()) << s.error();
  }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
};

spec::ProcessAttach by_url(const std::string& url, const std::string& field = "") {
  spec::ProcessAttach attach;
  attach.pid_url = url;
  attach.pid_field = field;
  return attach;
}

TEST(Resolve, ByPidUrlReadsABareNumber) {
  TempDir dir;
  const ProcessId id = start(sleep_named(dir, unique_name("cp-url-", 15)), dir);
  KillOnExit guard(id);
  PidServer server(200, std::to_string(id.pid) + "\n");
  auto found = resolve(by_url(server.url("/pid")));
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
}

TEST(Resolve, ByPidUrlReadsTheNamedFieldOfAJsonObject) {
  TempDir dir;
  const ProcessId id = start(sleep_named(dir, unique_name("cp-json-", 15)), dir);
  KillOnExit guard(id);
  PidServer server(200, R"({"state": "running", "role": "primary", "pid": )" + std::to_string(id.pid) +
                            R"(, "postmaster": {"pid": )" + std::to_string(id.pid) + "}}");
  auto found = resolve(by_url(server.url("/patroni"), "pid"));
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(*found, id);
  auto nested = resolve(by_url(server.url("/patroni"), "postmaster.pid"));
  ASSERT_TRUE(nested.ok()) << nested.error();
  EXPECT_EQ(*nested, id);
}

TEST(Resolve, APidUrlWithoutAUsablePidSaysWhatItGot) {
  PidServer json(200, R"({"state": "starting", "pid": "soon"})");
  auto missing = resolve(by_url(json.url("/patroni"), "postmaster_pid"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error(), "has no field 'postmaster_pid'")) << missing.error();
  EXPECT_TRUE(contains(missing.error(), json.url("/patroni"))) << missing.error();
  auto text = resolve(by_url(json.url("/patroni"), "pid"));
  ASSERT_FALSE(text.ok());
  EXPECT_TRUE(contains(text.error(), "field 'pid' is \"soon\", expected a pid")) << text.error();
  auto bare = resolve(by_url(json.url("/patroni")));
  ASSERT_FALSE(bare.ok());
  EXPECT_TRUE(contains(bare.error(), "expected a pid")) << bare.error();

  PidServer failing(503, R"({"state": "stopped"})");
  auto status = resolve(by_url(failing.url("/"), "pid"));
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(contains(status.error(), "answered 503")) << status.error();
}

TEST(Resolve, APidUrlThatDoesNotAnswerIsAnError) {
  std::string url;
  {
    PidServer gone(200, "1");
    url = gone.url("/");
  }  // stopped: the port refuses now
  auto found = resolve(by_url(url));
  ASSERT_FALSE(found.ok());
  EXPECT_TRUE(contains(found.error(), "pid_url " + url)) << found.error();
}

}  // namespace
}  // namespace chaosplus::targets
