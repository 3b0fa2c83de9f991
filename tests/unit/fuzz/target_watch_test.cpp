#include "fuzz/target_watch.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace chaosplus::fuzz {
namespace {

TEST(TargetWatch, TheProcessListeningOnAPortIsFoundByItsProgram) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const auto program = executable(::getpid());
  ASSERT_TRUE(program);
  EXPECT_FALSE(listener_running(port, *program)) << "bound but not listening yet";
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_EQ(listener_running(port, *program), ::getpid());
  EXPECT_FALSE(listener_running(port, "/no/such/program"));
  ::close(fd);
  EXPECT_FALSE(listener_running(port, *program));
}

}  // namespace
}  // namespace chaosplus::fuzz
