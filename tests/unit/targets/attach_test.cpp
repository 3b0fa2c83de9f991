#include "targets/attach.h"

#include <unistd.h>

#include <climits>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

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
  EXPECT_TRUE(contains(none.error(), "exactly one of pid, pidfile, name")) << none.error();
  spec::ProcessAttach both;
  both.pid = static_cast<int>(::getpid());
  both.name = "x";
  EXPECT_FALSE(resolve(both).ok());
}

}  // namespace
}  // namespace chaosplus::targets
