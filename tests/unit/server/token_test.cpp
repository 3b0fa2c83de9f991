#include "server/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/support.h"

namespace chaosplus::server {
namespace {

TEST(ServerToken, TheEnvironmentWinsOverAFile) {
  testing::TempDir dir;
  testing::write_file(dir.file("t"), "from-the-file-0123456789\n");
  auto token = resolve_token("from-the-environment-0123", dir.file("t"), dir.path());
  ASSERT_TRUE(token.ok()) << token.error();
  EXPECT_EQ(token->value, "from-the-environment-0123");
  EXPECT_EQ(token->origin, "$CHAOSPLUS_TOKEN");
}

TEST(ServerToken, AFileGivesItsFirstLine) {
  testing::TempDir dir;
  testing::write_file(dir.file("t"), "from-the-file-0123456789\r\nignored\n");
  auto token = resolve_token("", dir.file("t"), dir.path());
  ASSERT_TRUE(token.ok()) << token.error();
  EXPECT_EQ(token->value, "from-the-file-0123456789");
  EXPECT_FALSE(token->generated);
}

TEST(ServerToken, AShortOrSpacedTokenIsRefusedNamingItsSource) {
  testing::TempDir dir;
  testing::write_file(dir.file("t"), "short\n");
  auto token = resolve_token("", dir.file("t"), dir.path());
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().find(dir.file("t")), std::string::npos) << token.error();
  EXPECT_FALSE(resolve_token("has a space in it 0123456789", "", dir.path()).ok());
  EXPECT_FALSE(resolve_token("", dir.file("missing"), dir.path()).ok());
}

TEST(ServerToken, WithoutOneARandomTokenIsWrittenForItsOwnerOnly) {
  testing::TempDir dir;
  auto token = resolve_token("", "", dir.file("state"));
  ASSERT_TRUE(token.ok()) << token.error();
  EXPECT_TRUE(token->generated);
  EXPECT_EQ(token->value.size(), 64u);  // 256 bits in hex
  EXPECT_EQ(token->origin, dir.file("state") + "/server.token");
  EXPECT_EQ(testing::read_file(token->origin), token->value + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(token->origin.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = resolve_token("", "", dir.file("state"));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->value, token->value);  // a new one each start
}

TEST(ServerToken, OnlyTheExactBearerMatches) {
  const std::string t = "0123456789abcdef0123";
  EXPECT_TRUE(bearer_matches("Bearer " + t, t));
  EXPECT_FALSE(bearer_matches("Bearer " + t + "x", t));
  EXPECT_FALSE(bearer_matches("Bearer " + t.substr(1), t));
  EXPECT_FALSE(bearer_matches("bearer " + t, t));
  EXPECT_FALSE(bearer_matches("Basic " + t, t));
  EXPECT_FALSE(bearer_matches(t, t));
  EXPECT_FALSE(bearer_matches("Bearer ", t));
  EXPECT_FALSE(bearer_matches("Bearer ", ""));  // no token configured never matches
}

}  // namespace
}  // namespace chaosplus::server
