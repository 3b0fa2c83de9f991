// Claims: one run at a time per attached process or address, released however the holder ends.
#include "targets/claims.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "support/support.h"

namespace chaosplus::targets {
namespace {

using chaosplus::testing::TempDir;

// Claims go to a folder of the test's own, so tests never meet real runs.
class Claims : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("CHAOSPLUS_CLAIMS_DIR", dir_.file("claims").c_str(), 1); }
  void TearDown() override { ::unsetenv("CHAOSPLUS_CLAIMS_DIR"); }
  TempDir dir_;
};

TEST_F(Claims, ASecondClaimIsRefusedNamingTheHolder) {
  auto first = claim("process-42-1000", "target 'db' (pid 42)", {"run-a-1", "exp-a", 4242});
  ASSERT_TRUE(first.ok()) << first.error();
  auto second = claim("process-42-1000", "target 'db' (pid 42)", {"run-b-2", "exp-b", 4343});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("target 'db' (pid 42) is in use by run run-a-1 (experiment exp-a, runner pid 4242)"),
            std::string::npos)
      << second.error();
}

TEST_F(Claims, AReleasedClaimCanBeTakenAgain) {
  std::string path;
  {
    auto first = claim("listen-127.0.0.1-8080", "the proxy address", {"run-a", "a", 1});
    ASSERT_TRUE(first.ok());
    path = (*first)->path();
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path)) << "released claims are not cleaned up";
  auto again = claim("listen-127.0.0.1-8080", "the proxy address", {"run-b", "b", 2});
  EXPECT_TRUE(again.ok()) << again.error();
}

TEST_F(Claims, AHolderThatDiesReleasesItsClaim) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    auto c = claim("process-7-7", "target 'x'", {"run-dead", "x", static_cast<int>(::getpid())});
    const char ok = c.ok() ? 1 : 0;
    [[maybe_unused]] ssize_t n = ::write(ready[1], &ok, 1);
    ::pause();  // holds it until killed
    ::_exit(0);
  }
  ::close(ready[1]);
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(ok, 1);
  auto refused = claim("process-7-7", "target 'x'", {"run-live", "x", 1});
  EXPECT_FALSE(refused.ok()) << "the live holder's claim was not seen";
  ::kill(holder, SIGKILL);
  int status = 0;
  ::waitpid(holder, &status, 0);
  auto taken = claim("process-7-7", "target 'x'", {"run-live", "x", 1});
  EXPECT_TRUE(taken.ok()) << taken.error();
}

TEST_F(Claims, KeysAreFileNamesNeverPaths) {
  EXPECT_EQ(address_claim_key("::1", 80), "listen-__1-80");
  EXPECT_FALSE(claim("../etc/passwd", "x", {"r", "e", 1}).ok());
  EXPECT_FALSE(claim("", "x", {"r", "e", 1}).ok());
}

}  // namespace
}  // namespace chaosplus::targets
