// The exact file state the revoke and credential faults record and put back: the POSIX ACL and
// every other xattr byte for byte, the mode, the inode flags, and what compare() says differs.
#include "faults/file_state.h"

#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "faults/access_faults.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

std::string xattr(const std::string& path, const std::string& name) {
  char value[4096];
  const ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
  return n < 0 ? std::string() : std::string(value, static_cast<std::size_t>(n));
}

TEST(FileState, PutsTheAclXattrsModeAndFlagsBackByteForByte) {
  if (auto why = testing::needs_root("trusted xattrs, chattr"); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  const std::string file = dir.file("token");
  testing::write_file(file, "secret\n");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  ASSERT_EQ(testing::Child({"setfacl", "-m", "u:nobody:rw,g:nogroup:r", file}).wait(30s), 0);
  ASSERT_EQ(::setxattr(file.c_str(), "user.tag", "a\0b", 3, 0), 0) << "binary values too";
  auto before = snapshot(file);
  ASSERT_TRUE(before.ok()) << before.error();
  const std::string acl = xattr(file, "system.posix_acl_access");
  ASSERT_FALSE(acl.empty());
  EXPECT_EQ(before->xattrs.at("system.posix_acl_access"), acl);

  // What a revoke and someone else might do meanwhile: chmod (the ACL's mask follows), an ACL entry
  // removed, an xattr changed, one added, the immutable flag set.
  ASSERT_EQ(::chmod(file.c_str(), 0200), 0);
  ASSERT_EQ(testing::Child({"setfacl", "-x", "g:nogroup", file}).wait(30s), 0);
  ASSERT_EQ(::setxattr(file.c_str(), "user.tag", "changed", 7, 0), 0);
  ASSERT_EQ(::setxattr(file.c_str(), "user.added", "x", 1, 0), 0);
  const bool has_flags = before->flags.has_value();
  if (has_flags) {
    ASSERT_TRUE(write_flags(file, *before->flags | FS_IMMUTABLE_FL).ok());
  }
  auto during = snapshot(file);
  ASSERT_TRUE(during.ok());
  const std::string diff = compare(*before, *during);
  EXPECT_NE(diff.find("mode 0660 -> 0260"), std::string::npos) << diff << " (the group bits are the ACL's mask)";
  EXPECT_NE(diff.find("xattr system.posix_acl_access changed"), std::string::npos) << diff;
  EXPECT_NE(diff.find("xattr user.tag changed"), std::string::npos) << diff;
  EXPECT_NE(diff.find("xattr user.added added"), std::string::npos) << diff;
  if (has_flags) {
    EXPECT_NE(diff.find("inode flags"), std::string::npos) << diff;
  }

  // Through the record's JSON, as undo reads it.
  auto recorded = FileState::from_json(nlohmann::json::parse(before->to_json().dump()));
  ASSERT_TRUE(recorded.ok()) << recorded.error();
  auto restored = restore(file, *recorded);
  ASSERT_TRUE(restored.ok()) << restored.error();
  auto after = snapshot(file);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(compare(*before, *after), "");
  EXPECT_EQ(xattr(file, "system.posix_acl_access"), acl);
  EXPECT_EQ(xattr(file, "user.tag"), std::string("a\0b", 3));
  EXPECT_EQ(testing::read_file(file), "secret\n");
}

TEST(FileState, RefusesToRestoreOntoAnotherInode) {
  testing::TempDir dir;
  const std::string file = dir.file("f");
  testing::write_file(file, "one");
  auto before = snapshot(file);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(::unlink(file.c_str()), 0);
  testing::write_file(file, "two");
  ::chmod(file.c_str(), 0604);
  auto s = restore(file, *before);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("is another file now"), std::string::npos) << s.error();
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0604u) << "not touched";
}

TEST(RevokeAccess, ReadsWordsListsAndLetters) {
  EXPECT_EQ(*parse_access("all"), 07u);
  EXPECT_EQ(*parse_access("read"), 04u);
  EXPECT_EQ(*parse_access("read,execute"), 05u);
  EXPECT_EQ(*parse_access("rw"), 06u);
  EXPECT_EQ(*parse_access("x"), 01u);
  auto bad = parse_access("rwz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("found 'z' in 'rwz'"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_access("read,,write").ok());
}

}  // namespace
}  // namespace chaosplus::faults
