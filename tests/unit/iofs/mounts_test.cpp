// Reading mount tables: ours has its root and no I/O fault; a process that is gone has none.
#include "iofs/mounts.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace chaosplus::iofs {
namespace {

TEST(IofsMounts, OurOwnMountTableHasTheRoot) {
  const auto mounts = read_mounts(0);
  ASSERT_FALSE(mounts.empty());
  bool root = false;
  for (const auto& m : mounts) root = root || m.mount_point == "/";
  EXPECT_TRUE(root);
  EXPECT_FALSE(iofs_on_top(0, "/")) << "no I/O fault is mounted on /";
  EXPECT_NE(mount_namespace(0), 0u);
  EXPECT_EQ(mount_namespace(0), mount_namespace(::getpid()));
}

TEST(IofsMounts, AProcessThatIsGoneHasNoMountsAndUnmountingForItDoesNothing) {
  // Pid numbers stop well below this (pid_max is at most 4194304).
  constexpr int gone = 99999999;
  EXPECT_TRUE(read_mounts(gone).empty());
  EXPECT_EQ(mountinfo_text(gone), "");
  EXPECT_EQ(mount_namespace(gone), 0u);
  EXPECT_TRUE(unmount_iofs(gone, "/srv/data").ok());
}

}  // namespace
}  // namespace chaosplus::iofs
