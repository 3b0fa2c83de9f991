// Finding a process's control group for a controller, from the texts of /proc/PID/cgroup and the
// mount table: v1 hierarchies, a v2-only host, a host with both (v1 controllers beside an empty v2
// mount, as on this test machine), a container's subtree mount; and the v2 file mechanics (make a
// group, move a process in and out, list it) on this host's v2 mount when it has one.
#include "faults/cgroups.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "support/support.h"

namespace chaosplus::faults::cgroups {
namespace {

const std::string kHybridMounts =
    "25 30 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "27 25 0:24 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n"
    "28 25 0:25 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
const std::string kV2Mounts = "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

std::function<std::string(const std::string&)> controllers(const std::string& listed) {
  return [listed](const std::string&) { return listed; };
}

TEST(Cgroups, AV1HierarchyHoldsItsController) {
  auto place = locate("memory", "4:memory:/process_api/abc\n1:cpu:/\n0::/\n", kHybridMounts, controllers("\n"));
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_EQ(place->version, Version::v1);
  EXPECT_EQ(place->mount, "/sys/fs/cgroup/memory");
  EXPECT_EQ(place->dir(), "/sys/fs/cgroup/memory/process_api/abc");
  auto cpu = locate("cpu", "4:memory:/process_api/abc\n1:cpu:/\n0::/\n", kHybridMounts, controllers("\n"));
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->root());
  EXPECT_EQ(cpu->dir(), "/sys/fs/cgroup/cpu");
}

TEST(Cgroups, CoMountedV1ControllersAreFoundByEither) {
  const std::string mounts = "26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
  auto place = locate("cpuacct", "3:cpu,cpuacct:/svc\n", mounts, controllers(""));
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_EQ(place->dir(), "/sys/fs/cgroup/cpu,cpuacct/svc");
}

TEST(Cgroups, AV2HostHasEveryEnabledControllerInTheUnifiedGroup) {
  auto place =
      locate("memory", "0::/system.slice/shop.service\n", kV2Mounts, controllers("cpuset cpu io memory pids\n"));
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_EQ(place->version, Version::v2);
  EXPECT_EQ(place->dir(), "/sys/fs/cgroup/system.slice/shop.service");
}

TEST(Cgroups, AControllerNeitherInV1NorEnabledInV2IsAnErrorThatSaysSo) {
  // This machine's shape: the memory controller is bound to v1, the v2 mount lists nothing.
  auto place = locate("io", "4:memory:/x\n0::/\n", kHybridMounts, controllers("\n"));
  ASSERT_FALSE(place.ok());
  EXPECT_NE(place.error().find("io controller is neither in a cgroup v1 hierarchy nor enabled in the cgroup v2 mount "
                               "/sys/fs/cgroup/unified"),
            std::string::npos)
      << place.error();
}

TEST(Cgroups, AContainersSubtreeMountIsReadBelowItsRoot) {
  const std::string mounts = "30 1 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  auto place = locate("memory", "0::/kubepods/pod1/app\n", mounts, controllers("memory pids\n"));
  ASSERT_TRUE(place.ok()) << place.error();
  EXPECT_EQ(place->dir(), "/sys/fs/cgroup/app");
}

// The real v2 mount of this host (if any): a group of the test's own, a child process moved in and
// back out, the group removed. The memory files are there only where the host enables the memory
// controller in v2; where it does, their value is written and read back.
TEST(Cgroups, OnThisHostsV2MountAGroupTakesAProcessAndGivesItBack) {
  if (auto why = testing::needs_root("cgroups"); !why.empty()) GTEST_SKIP() << why;
  std::string v2;
  for (const auto& line : testing::read_lines("/proc/self/mountinfo")) {
    const auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string skip, mount;
    fields >> skip >> skip >> skip >> skip >> mount;
    v2 = mount;
    break;
  }
  if (v2.empty()) GTEST_SKIP() << "no cgroup v2 mount";
  auto ours = of_process(static_cast<int>(::getpid()), "memory");
  ASSERT_TRUE(ours.ok()) << ours.error();
  const std::string dir = v2 + "/chaosplus-cgroups-test-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << std::strerror(errno);
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  const std::string home = testing::read_file("/proc/" + std::to_string(child) + "/cgroup");
  EXPECT_TRUE(add_process(dir, child).ok());
  EXPECT_EQ(processes(dir), std::vector<int>{child});
  if (ours->version == Version::v2 && has_file(dir, "memory.max")) {
    ASSERT_TRUE(write_value(dir, "memory.max", "67108864").ok());
    EXPECT_EQ(*read_value(dir, "memory.max"), "67108864");
  } else {
    EXPECT_FALSE(has_file(dir, "memory.max")) << "the memory controller is not enabled in v2 here";
  }
  // Back where it came from (the v2 line of its /proc/PID/cgroup), then the group goes.
  std::string back = "/";
  for (std::size_t at = 0; at < home.size();) {
    const auto end = home.find('\n', at);
    const std::string line = home.substr(at, end - at);
    if (line.starts_with("0::")) back = line.substr(3);
    at = end == std::string::npos ? home.size() : end + 1;
  }
  EXPECT_TRUE(add_process(back == "/" ? v2 : v2 + back, child).ok());
  EXPECT_TRUE(processes(dir).empty());
  EXPECT_EQ(testing::read_file("/proc/" + std::to_string(child) + "/cgroup"), home);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << std::strerror(errno);
}

}  // namespace
}  // namespace chaosplus::faults::cgroups
